"""hangar machines list|start|stop|destroy|clone"""

from __future__ import annotations

import typer

from hangar.cli.context import (
    ApiUrlOption,
    AppOption,
    JsonOption,
    YesOption,
    client,
    machines_table,
    out,
    print_json,
    resolve_app,
)
from hangar.cli.follow import follow_operation
from hangar.errors import InvalidInput

app = typer.Typer(help="Manage the app's machines", no_args_is_help=True)
MachineArg = typer.Argument(..., help="Machine id")


@app.command("list")
def list_machines(
    app_: str | None = AppOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """List the app's machines."""
    machines = client(api_url).machines(resolve_app(app_))
    if json_:
        print_json(machines)
        return
    machines_table(machines)


@app.command()
def start(
    machine_id: str = MachineArg, app_: str | None = AppOption, api_url: str = ApiUrlOption
) -> None:
    """Start a stopped machine."""
    client(api_url).machine_action(resolve_app(app_), machine_id, "start")
    out.print(f"Machine {machine_id} started")


@app.command()
def stop(
    machine_id: str = MachineArg, app_: str | None = AppOption, api_url: str = ApiUrlOption
) -> None:
    """Drain and stop a machine."""
    client(api_url).machine_action(resolve_app(app_), machine_id, "stop")
    out.print(f"Machine {machine_id} stopped")


@app.command()
def destroy(
    machine_id: str = MachineArg,
    app_: str | None = AppOption,
    yes: bool = YesOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Drain and destroy a machine."""
    if not yes and not typer.confirm(f"Destroy machine {machine_id}?"):
        raise InvalidInput(
            "not confirmed, nothing was destroyed", hint="pass -y to skip the question"
        )
    client(api_url).machine_action(resolve_app(app_), machine_id, "destroy")
    out.print(f"Machine {machine_id} destroyed")


@app.command()
def clone(
    machine_id: str = MachineArg, app_: str | None = AppOption, api_url: str = ApiUrlOption
) -> None:
    """Add a machine with the same release and config as ID (health-checked, then routed)."""
    follow_operation(client(api_url).clone_machine(resolve_app(app_), machine_id))
