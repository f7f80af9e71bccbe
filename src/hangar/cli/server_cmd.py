"""hangar server: run the platform on this host."""

from __future__ import annotations

from pathlib import Path

import typer


def server(
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where state is kept"),
    host: str = typer.Option("127.0.0.1", "--host", help="API address"),
    port: int = typer.Option(4280, "--port", help="API port"),
    http_host: str = typer.Option("0.0.0.0", "--http-host", help="Edge address"),
    http_port: int = typer.Option(80, "--http-port", help="Edge port serving the apps"),
    domain: str = typer.Option("localhost", "--domain", help="Apps answer at APP.<domain>"),
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="HANGAR_DATABASE_URL", help="postgresql://… (default SQLite)"
    ),
    secrets_key_file: Path | None = typer.Option(
        None,
        "--secrets-key-file",
        envvar="HANGAR_SECRETS_KEY_FILE",
        help="Fernet key encrypting app secrets, kept apart from the database; created (0600) "
        "if missing (default /etc/hangar/secrets.key as root, else ~/.config/hangar/secrets.key)",
    ),
    keep_images: int = typer.Option(
        5,
        "--keep-images",
        min=1,
        metavar="N",
        help="Keep the images of each app's last N releases; older ones are pruned after "
        "each successful deploy",
    ),
    smoke_window: float = typer.Option(
        5.0,
        "--smoke-window",
        min=0,
        metavar="S",
        help="Seconds a new machine must keep running after it passed its health checks",
    ),
) -> None:
    """Run the control plane API, the edge and the deploy engine."""
    # Imported here: the server's dependencies would slow every other command's start.
    from hangar.server import ServerOptions, default_data_dir, serve

    serve(
        ServerOptions(
            data_dir=data_dir or default_data_dir(),
            host=host,
            port=port,
            http_host=http_host,
            http_port=http_port,
            domain=domain,
            database_url=database_url,
            secrets_key_file=secrets_key_file,
            keep_images=keep_images,
            smoke_window_s=smoke_window,
        )
    )
