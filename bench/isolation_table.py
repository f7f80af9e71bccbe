"""Print the isolation table: every API route x every identity that must not reach the
owner's app -> the status it got, and whether the body held the owner's data.

Run: .venv/bin/python bench/isolation_table.py
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.isolation import call_table, identities, prepare
from tests.support.platform import fake_platform_in

from hangar.api.app import create_api


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        platform = fake_platform_in(Path(folder))
        prepare(platform)
        calls = call_table(platform, create_api(platform))
        platform.db.dispose()
    names = list(identities(platform))
    rows: dict[str, dict[str, str]] = defaultdict(dict)
    for call in calls:
        rows[f"{call.method} {call.path}"][call.identity] = (
            f"{call.status}{' LEAK' if call.leaked else ''}"
        )
    print("| route | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for route, cells in rows.items():
        print(f"| {route} | " + " | ".join(cells[n] for n in names) + " |")
    leaks = sum(call.leaked for call in calls)
    print(f"\n{len(rows)} routes x {len(names)} identities = {len(calls)} calls; {leaks} leaked")


if __name__ == "__main__":
    main()
