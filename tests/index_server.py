"""A real HTTP package index on 127.0.0.1 serving recorded project documents.

Serves ``GET /pypi/NAME/json`` from fixtures/index/NAME.json.gz (or documents a test
provides), with faults a test can queue per project: an HTTP status, a delay, or a body.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index"


@dataclass
class Fault:
    status: int | None = None
    delay: float = 0.0
    body: bytes | None = None


class IndexServer:
    def __init__(self, documents: dict[str, bytes] | None = None, delay: float = 0.0) -> None:
        self.documents = documents if documents is not None else recorded_documents()
        self.delay = delay
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests.append(self.path)
                parts = self.path.strip("/").split("/")
                name = parts[1] if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" else None
                fault = server.faults[name].pop(0) if name and server.faults[name] else Fault()
                time.sleep(server.delay + fault.delay)
                if fault.status is not None:
                    self._send(fault.status, b'{"message": "injected failure"}')
                elif fault.body is not None:
                    self._send(200, fault.body)
                elif name in server.documents:
                    self._send(200, server.documents[name])
                else:
                    self._send(404, b'{"message": "Not Found"}')

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/pypi"

    def start(self) -> IndexServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # every lookup of a run connects at once
    daemon_threads = True


def recorded_documents() -> dict[str, bytes]:
    return {
        path.name.removesuffix(".json.gz"): gzip.decompress(path.read_bytes())
        for path in FIXTURES.glob("*.json.gz")
    }
