"""hangar certs add|list|show|check|remove DOMAIN -a APP, and hangar certs ca."""

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
    short_time,
    table,
)
from hangar.client.settings import config_path
from hangar.errors import InvalidInput

app = typer.Typer(
    help="The app's own domains and the certificates the edge serves", no_args_is_help=True
)
DomainArg = typer.Argument(..., help="A domain of yours, such as www.example.com")


@app.command()
def add(
    hostname: str = DomainArg,
    app_: str | None = AppOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Route DOMAIN to the app and get it a certificate."""
    added = client(api_url).add_domain(resolve_app(app_), hostname)
    _say(added, json_, f"Added {added['hostname']} to app {added['app']}")


@app.command("list")
def list_domains(
    app_: str | None = AppOption, json_: bool = JsonOption, api_url: str = ApiUrlOption
) -> None:
    """The app's domains and their certificates."""
    found = client(api_url).domains(resolve_app(app_))
    if json_:
        print_json(found)
        return
    rows = [[d["hostname"], d["status"], _expiry(d), short_time(d["added"])] for d in found]
    table(["Domain", "Status", "Certificate until", "Added"], rows)


@app.command()
def show(
    hostname: str = DomainArg,
    app_: str | None = AppOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """What DNS record DOMAIN needs, and its certificate (also for APP.<domain>)."""
    _say(client(api_url).domain(resolve_app(app_), hostname), json_)


@app.command()
def check(
    hostname: str = DomainArg,
    app_: str | None = AppOption,
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Get DOMAIN's certificate now if it is missing or due, then show it."""
    _say(client(api_url).domain(resolve_app(app_), hostname, check=True), json_)


@app.command()
def remove(
    hostname: str = DomainArg,
    app_: str | None = AppOption,
    yes: bool = YesOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Stop routing DOMAIN to the app and drop its certificate."""
    name = resolve_app(app_)
    if not yes and not typer.confirm(f"Remove {hostname} from app {name}?"):
        raise InvalidInput(
            "not confirmed, nothing was removed", hint="pass -y to skip the question"
        )
    client(api_url).remove_domain(name, hostname)
    out.print(f"Removed {hostname} from app {name}", highlight=False)


def _say(domain: dict[str, Any], json_: bool, first: str | None = None) -> None:
    if json_:
        print_json(domain)
        return
    if first:
        out.print(first, highlight=False)
    out.print(f"Domain       {domain['hostname']} (app {domain['app']})", highlight=False)
    out.print(f"Status       {domain['status']}", highlight=False)
    cert = domain["certificate"]
    if cert:
        out.print(
            f"Certificate  by {cert['issuer']}, valid until {_expiry(domain)}", highlight=False
        )
    _say_acme(domain.get("acme"))
    out.print(f"DNS          {domain['dns']}", highlight=False, soft_wrap=True)


def _say_acme(acme: dict[str, Any] | None) -> None:
    if not acme:
        return
    if acme["last_error"]:
        out.print(f"Last error   {acme['last_error']}", highlight=False, soft_wrap=True)
        when = short_time(acme["retry_at"]) if acme["retry_at"] else "-"
        out.print(f"Next try     {when} (or now: hangar certs check)", highlight=False)
    if acme["renew_after"]:
        out.print(f"Renews after {short_time(acme['renew_after'])}", highlight=False)


def _expiry(domain: dict[str, Any]) -> str:
    cert = domain["certificate"]
    return short_time(cert["not_after"]) if cert else "-"


@app.command()
def ca(
    path_only: bool = typer.Option(False, "--path", help="Print only the saved file's path"),
    api_url: str = ApiUrlOption,
) -> None:
    """Save the server's CA certificate here and say how to trust it."""
    found = client(api_url).local_ca()
    saved = config_path().parent / "ca.crt"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(found["pem"])
    saved.chmod(0o644)  # a certificate: public
    if path_only:
        print(saved)
        return
    out.print(f"The edge's certificates are signed by {found['subject']}", highlight=False)
    out.print(f"Saved to {saved} (the server keeps it at {found['path']}).", highlight=False)
    out.print("Trust it for one command:", highlight=False)
    out.print(f"  curl --cacert {saved} https://APP.<domain>/", highlight=False)
    out.print("Trust it on this machine (Debian; browsers may keep their own list):")
    out.print(
        f"  cp {saved} /usr/local/share/ca-certificates/hangar.crt && update-ca-certificates",
        highlight=False,
        soft_wrap=True,
    )
