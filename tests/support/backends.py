"""Tiny HTTP backends on 127.0.0.1 standing in for machines behind the edge."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hangar.ports import Backend

SLOW_S = 1.5


class NamedServer:
    """An HTTP/1.1 keep-alive server answering its own name; `/slow` takes SLOW_S;
    `/headers` answers the request's headers as JSON (lists of values by lowercase name)."""

    def __init__(self, name: str, port: int = 0) -> None:
        self.name = name
        self.httpd = _Server(("127.0.0.1", port), _handler(name))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def backend(self) -> Backend:
        return Backend(self.name, self.port)

    def close(self) -> None:
        """Stop like a killed machine: no listener, open connections cut."""
        self.httpd.shutdown()
        self.httpd.server_close()
        for conn in self.httpd.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sick = False  # /health answers 500 while set

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.connections: list[socket.socket] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.append(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # peers resetting idle keep-alive connections is expected


def _handler(name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(SLOW_S)
            failing = self.path == "/fail" or (self.path == "/health" and self.server.sick)  # type: ignore[attr-defined]
            status = 500 if failing else 200
            body = _headers_json(self) if self.path == "/headers" else name.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _headers_json(handler: BaseHTTPRequestHandler) -> bytes:
    seen: dict[str, list[str]] = {}
    for key, value in handler.headers.items():
        seen.setdefault(key.lower(), []).append(value)
    return json.dumps(seen).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
