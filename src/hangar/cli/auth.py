"""hangar auth signup|login|logout|whoami|password|token"""

from __future__ import annotations

import typer

from hangar.cli.context import ApiUrlOption, client, err, out, print_json
from hangar.client.api_client import ApiError, HangarClient
from hangar.client.settings import ClientSettings

app = typer.Typer(help="Sign up, log in and out", no_args_is_help=True)
EmailOption = typer.Option(..., "--email", "-e", prompt=True, help="Your email")
PasswordOption = typer.Option(
    ..., "--password", "-p", prompt=True, hide_input=True, envvar="HANGAR_PASSWORD"
)


@app.command()
def signup(
    email: str = EmailOption,
    password: str = PasswordOption,
    invite: str | None = typer.Option(
        None, "--invite", help="The code from `hangar orgs invite` (servers that sign up by invite)"
    ),
    api_url: str = ApiUrlOption,
) -> None:
    """Create an account (with its personal org) and log in."""
    settings = ClientSettings.load(api_url)
    answer = HangarClient(settings.api_url).signup(email, password, invite)
    _save(settings, answer)
    out.print(f"Signed up and logged in as [bold]{answer['email']}[/]")


@app.command()
def login(
    email: str = EmailOption, password: str = PasswordOption, api_url: str = ApiUrlOption
) -> None:
    """Log in and keep the token in ~/.hangar/config.toml."""
    settings = ClientSettings.load(api_url)
    answer = HangarClient(settings.api_url).login(email, password)
    _save(settings, answer)
    out.print(f"Successfully logged in as [bold]{answer['email']}[/]")


@app.command()
def logout(api_url: str = ApiUrlOption) -> None:
    """Forget the token here and on the server."""
    settings = ClientSettings.load(api_url)
    if settings.token:
        try:
            client(api_url).logout()
        except ApiError as exc:  # a stale token or an unreachable server: forget it here anyway
            err.print(f"[yellow]Warning:[/] the server did not revoke the token: {exc.message}")
    settings.token, settings.email = None, None
    settings.save()
    out.print("Logged out")


@app.command()
def whoami(api_url: str = ApiUrlOption, json_: bool = typer.Option(False, "--json", "-j")) -> None:
    """Show who you are logged in as."""
    answer = client(api_url).whoami()
    if json_:
        print_json(answer)
    else:
        out.print(answer["email"])


@app.command()
def password(
    current: str = typer.Option(
        ..., "--current", prompt="Current password", hide_input=True, envvar="HANGAR_PASSWORD"
    ),
    new: str = typer.Option(
        ...,
        "--new",
        prompt="New password",
        hide_input=True,
        confirmation_prompt=True,
        envvar="HANGAR_NEW_PASSWORD",
    ),
    api_url: str = ApiUrlOption,
) -> None:
    """Change your password; your other login sessions end."""
    client(api_url).change_password(current, new)
    out.print("Password changed; your other sessions are logged out")


@app.command()
def token(api_url: str = ApiUrlOption) -> None:
    """Print your access token."""
    settings = ClientSettings.load(api_url)
    if not settings.token:
        err.print("[red]Error:[/] you are not logged in\nrun `hangar auth login` first")
        raise typer.Exit(1)
    print(settings.token)


def _save(settings: ClientSettings, answer: dict[str, str]) -> None:
    settings.token, settings.email = answer["token"], answer["email"]
    settings.save()
