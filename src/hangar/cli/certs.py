"""hangar certs ca: the server's own CA, and how to trust it."""

from __future__ import annotations

import typer

from hangar.cli.context import ApiUrlOption, client, out
from hangar.client.settings import config_path

app = typer.Typer(help="The certificates the edge serves its apps with", no_args_is_help=True)


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
