"""An ordinary Python web server, unlike examples/hello: it boots slowly and dies at once.

- It sleeps BOOT_SECONDS (3) before it listens on PORT (8080), as an app
  loading its code and data does.
- It has no SIGTERM handler: the signal kills it at once, in-flight requests too.
- BREAK picks a broken release: "never-listen" boots and never listens;
  "crash-after-listen" listens, then exits 3 after CRASH_SECONDS (2).
"""

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(os.environ.get("PORT", "8080"))
BOOT_SECONDS = float(os.environ.get("BOOT_SECONDS", "3"))
CRASH_SECONDS = float(os.environ.get("CRASH_SECONDS", "2"))
BREAK = os.environ.get("BREAK", "")
MACHINE = os.environ.get("FLY_MACHINE_ID", "local")
RELEASE = os.environ.get("FLY_RELEASE_VERSION", "0")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path in ("/slow", "/cgi-bin/slow"):
            time.sleep(float(parse_qs(url.query).get("s", ["5"])[0]))
        body = f"slowpoke v{RELEASE} on {MACHINE}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # one line per request would drown the logs under load


def crash_later() -> None:
    time.sleep(CRASH_SECONDS)
    print("fatal: lost the connection to the database", flush=True)
    os._exit(3)


def main() -> None:
    print(f"booting release v{RELEASE} ({BOOT_SECONDS:.0f}s)...", flush=True)
    time.sleep(BOOT_SECONDS)
    if BREAK == "never-listen":
        print("waiting for a service that never comes", flush=True)
        while True:
            time.sleep(3600)
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = True
    print(f"listening on 0.0.0.0:{PORT}", flush=True)
    if BREAK == "crash-after-listen":
        threading.Thread(target=crash_later, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
