"""hangar scale count|show|vm|memory"""

from __future__ import annotations

from typing import Any

import typer

from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    JsonOption,
    YesOption,
    client,
    out,
    print_json,
    resolve_app,
    table,
)
from hangar.cli.deploy import follow_deploy
from hangar.cli.follow import follow_operation
from hangar.errors import InvalidInput

app = typer.Typer(help="Scale the app: how many machines, what VM size", no_args_is_help=True)
# "-1" is an argument to check, not an unknown option
NUMBER_ARGUMENT = {"ignore_unknown_options": True}


@app.command("count", context_settings=NUMBER_ARGUMENT)
def count(
    number: str = typer.Argument(..., metavar="COUNT", help="How many machines the app should run"),
    app_: str | None = AppOption,
    yes: bool = YesOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Add or remove machines: new ones run the current release and are health-checked
    before they get traffic; removed ones are drained first."""
    wanted = _whole_number(number)
    name = resolve_app(app_)
    api = client(api_url)
    plan = api.scale_plan(name, wanted)
    if not plan["add"] and not plan["remove"]:
        out.print(f"App {name} already has {wanted} machines: nothing to do")
        return
    out.print(f"App {name} is going to be scaled according to this plan:\n  {plan['summary']}")
    if not yes and not typer.confirm(f"Scale {name} from {plan['current']} to {wanted}?"):
        raise InvalidInput(
            "not confirmed, nothing was changed", hint="pass -y to skip the question"
        )
    follow_operation(api.scale_count(name, wanted))


@app.command()
def show(
    app_: str | None = AppOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """Show the machine count and the VM size, cpus and memory of the current release."""
    scale = client(api_url).scale_show(resolve_app(app_))
    if json_:
        print_json(scale)
        return
    out.print(f"VM Resources for app: [bold]{scale['app']}[/]\n")
    table(["NAME", "COUNT", "SIZE", "CPUS", "MEMORY", "REGIONS"], [_group_row(scale)])
    out.print(f"\nRestart policy: {_policy(scale['restart'])}", highlight=False)
    if scale["release"] is None:
        out.print("Not deployed yet: deploy it with `hangar deploy`", markup=False)


@app.command()
def vm(
    size: str = typer.Argument(..., help="VM size, e.g. shared-cpu-1x, shared-cpu-2x"),
    memory: str | None = typer.Option(
        None, "--memory", "--vm-memory", help="Memory in MB (default: the size's)"
    ),
    app_: str | None = AppOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Change the VM size and roll it out as a new release."""
    _roll_out(app_, api_url, size=size, memory=memory)


@app.command(context_settings=NUMBER_ARGUMENT)
def memory(
    megabytes: str = typer.Argument(..., metavar="MB", help="Memory in MB, e.g. 512"),
    app_: str | None = AppOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Change the machines' memory and roll it out as a new release."""
    _roll_out(app_, api_url, memory=megabytes)


def _roll_out(app_: str | None, api_url: str | None, **change: str | None) -> None:
    name = resolve_app(app_)
    api = client(api_url)
    deployment = api.scale_vm(name, change.get("size"), change.get("memory"))
    out.print(f"==> Scaling the VM of [bold]{name}[/] (deployment {deployment})")
    follow_deploy(api, name, deployment)


def _whole_number(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a number of machines",
            hint="give a whole number, e.g. `hangar scale count 3`",
        ) from None


def _group_row(scale: dict[str, Any]) -> list[Any]:
    vm = scale["vm"]
    regions = ", ".join(f"{region}({n})" for region, n in sorted(scale["regions"].items()))
    return [
        "app",
        scale["count"],
        vm["size"] or "-",
        vm["cpus"] or "all",
        f"{vm['memory_mb']} MB" if vm["memory_mb"] else "unlimited",
        regions,
    ]


def _policy(restart: dict[str, Any]) -> str:
    if restart["policy"] == "on-failure":
        return f"on-failure, up to {restart['retries']} restarts"
    return str(restart["policy"])
