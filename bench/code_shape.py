"""Print the shape of the code: function lengths, the largest module, untested modules.

Run: .venv/bin/python bench/code_shape.py
"""

from __future__ import annotations

import ast
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src"
TESTS = ROOT / "tests"


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {module_name(p, SOURCE): p for p in sorted(SOURCE.rglob("*.py"))}


def function_lengths(paths: list[Path]) -> list[int]:
    lengths = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lengths.append((node.end_lineno or node.lineno) - node.lineno + 1)
    return lengths


def imported_names(path: Path) -> set[str]:
    """Every module a file names in an import, with `from a import b` also as `a.b`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def untested(modules: dict[str, Path]) -> list[str]:
    """Modules (not packages' empty __init__) that no test file imports."""
    imported: set[str] = set()
    for path in TESTS.rglob("*.py"):
        imported |= imported_names(path)
    return [
        name
        for name, path in modules.items()
        if path.name != "__init__.py" and name not in imported
    ]


def platform_takers(paths: list[Path]) -> tuple[int, int]:
    """Functions with a `Platform` parameter, and those that only pass it on."""
    taking = passing = 0
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            arguments = node.args.args + node.args.kwonlyargs
            named = [
                a.arg for a in arguments if a.annotation and ast.unparse(a.annotation) == "Platform"
            ]
            if not named:
                continue
            taking += 1
            passing += not any(
                isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id == named[0]
                for n in ast.walk(node)
            )
    return taking, passing


def unreached(modules: dict[str, Path], tests: Path) -> list[str]:
    """Modules that no test file under `tests` imports, directly or through other modules."""
    seen: set[str] = set()
    todo = [name for path in tests.rglob("*.py") for name in imported_names(path)]
    while todo:
        name = todo.pop()
        if name in modules and name not in seen:
            seen.add(name)
            todo.extend(imported_names(modules[name]))
            todo.extend(n for n in modules if n.startswith(name + "."))
    return [n for n, p in modules.items() if p.name != "__init__.py" and n not in seen]


def percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    modules = source_modules()
    lengths = function_lengths(list(modules.values()))
    largest = max(modules.items(), key=lambda item: len(item[1].read_text().splitlines()))
    missing = untested(modules)
    packages = sum(path.name == "__init__.py" for path in modules.values())
    print(f"modules: {len(modules)} (of which package __init__: {packages})")
    print(f"functions: {len(lengths)}")
    print(
        f"function length (lines): median {statistics.median(lengths):g}, "
        f"p90 {percentile(lengths, 0.9)}, max {max(lengths)}"
    )
    print(f"largest module: {largest[0]} ({len(largest[1].read_text().splitlines())} lines)")
    taking, passing = platform_takers(list(modules.values()))
    print(f"functions taking Platform: {taking} (only passing it on: {passing})")
    unreachable = unreached(modules, TESTS / "unit")
    print(f"modules no unit test reaches (imports, directly or not): {len(unreachable)}")
    print(f"modules no test imports directly: {len(missing)}")
    for name in missing:
        print(f"  {name}")


if __name__ == "__main__":
    main()
