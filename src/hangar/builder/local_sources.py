"""Serve files Hangar fetched to the engine, on loopback, for the length of one build.

`ADD <url>` keeps its meaning (no unpacking, mode 0600, the source's
Last-Modified) when the engine downloads the checked copy from here instead of
the original address. Each file sits under a random path; anything else is 404.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import quote

from hangar.builder.safe_fetch import Fetched


class LocalSources:
    def __init__(self) -> None:
        self._files: dict[str, Fetched] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LocalSources:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def serve(self, fetched: Fetched, name: str) -> str:
        """The loopback URL the engine fetches `fetched` from, ending in `name`."""
        path = f"/{secrets.token_hex(16)}/{quote(name)}"
        self._files[path] = fetched
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        files = self._files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fetched = files.get(self.path)
                if fetched is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(fetched.path.stat().st_size))
                if fetched.last_modified:
                    self.send_header("Last-Modified", fetched.last_modified)
                self.end_headers()
                with fetched.path.open("rb") as body:
                    shutil.copyfileobj(body, self.wfile)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
