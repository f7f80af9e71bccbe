"""hangar orgs list|create|show|invite|remove|leave|join"""

from __future__ import annotations

import typer

from hangar.cli.context import ApiUrlOption, JsonOption, client, out, print_json, table

app = typer.Typer(
    help="Organisations: apps belong to one, people are its members", no_args_is_help=True
)
OrgArgument = typer.Argument(..., help="The org's name")


@app.command("list")
def list_orgs(json_: bool = JsonOption, api_url: str = ApiUrlOption) -> None:
    """The orgs you are a member of, with your role."""
    found = client(api_url).orgs()
    if json_:
        print_json(found)
        return
    table(
        ["NAME", "ROLE", "PERSONAL"],
        [[o["name"], o["role"], "yes" if o["personal"] else ""] for o in found],
    )


@app.command()
def create(name: str = OrgArgument, api_url: str = ApiUrlOption) -> None:
    """Create an org; you are its admin."""
    client(api_url).create_org(name)
    out.print(
        f"Created org [bold]{name}[/]; invite people with `hangar orgs invite EMAIL --org {name}`"
    )


@app.command()
def show(name: str = OrgArgument, json_: bool = JsonOption, api_url: str = ApiUrlOption) -> None:
    """An org's members and their roles."""
    found = client(api_url).org(name)
    if json_:
        print_json(found)
        return
    table(["EMAIL", "ROLE"], [[m["email"], m["role"]] for m in found["members"] or []], title=name)


@app.command()
def invite(
    email: str = typer.Argument(..., help="Who to invite"),
    org: str = typer.Option(..., "--org", "-o", help="The org to invite them to"),
    role: str = typer.Option("member", "--role", help="member or admin"),
    json_: bool = JsonOption,
    api_url: str = ApiUrlOption,
) -> None:
    """Make a one-time invite code for EMAIL (valid 7 days), printed once."""
    made = client(api_url).invite(org, email, role)
    if json_:
        print_json(made)
        return
    expires = made["expires_at"][:10]
    out.print(f"Invite for {made['email']} to {org} as {made['role']} (expires {expires}):")
    print(made["code"])
    out.print(
        "They sign up with `hangar auth signup --invite CODE` or on the dashboard's "
        "/signup page, or, with an account already, `hangar orgs join CODE`"
    )


@app.command()
def remove(
    email: str = typer.Argument(..., help="The member to remove"),
    org: str = typer.Option(..., "--org", "-o"),
    api_url: str = ApiUrlOption,
) -> None:
    """Remove a member (admins only; an org keeps at least one admin)."""
    client(api_url).remove_member(org, email)
    out.print(f"Removed {email} from {org}")


@app.command()
def leave(name: str = OrgArgument, api_url: str = ApiUrlOption) -> None:
    """Leave an org (its last admin cannot)."""
    client(api_url).leave_org(name)
    out.print(f"You left {name}")


@app.command()
def join(
    code: str = typer.Argument(..., help="The invite code"), api_url: str = ApiUrlOption
) -> None:
    """Join an org with an invite code made for your email."""
    joined = client(api_url).join_org(code)
    out.print(f"You are now a {joined['role']} of [bold]{joined['name']}[/]")
