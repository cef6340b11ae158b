"""A real HTTP package index on 127.0.0.1 serving recorded answers.

Serves the Simple API, ``GET /simple/NAME/``, from fixtures/index/simple/NAME.json.gz: PEP 691
JSON when the Accept header asks for it, else PEP 503 HTML made from the same page; the JSON
API, ``GET /pypi/NAME/json``, from fixtures/index/NAME.json.gz (or documents a test
provides); and the files of fixtures/index/files/ by name (``.metadata`` files, small
distributions). Faults a test can queue per project: an HTTP status, a delay, or a body.

``yanked``: file name -> reason ("" for none): those files are served as yanked (PEP 592),
as an index that yanked them since the recording would.

``mirror=True``: a static PEP 503 tree instead (no JSON at all, no JSON API), whose file
links point at the server itself, as a mirror's do. Otherwise the pages keep the public
file URLs (https://files.pythonhosted.org/...) and the server stands in for that host too,
as an HTTPS proxy (``proxy_environment()``) whose certificate a test CA signs.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import gzip
import html
import http.server
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index"


@dataclass
class Fault:
    status: int | None = None
    delay: float = 0.0
    body: bytes | None = None


class IndexServer:
    def __init__(
        self,
        documents: dict[str, bytes] | None = None,
        delay: float = 0.0,
        mirror: bool = False,
        yanked: dict[str, str] | None = None,
    ) -> None:
        self.documents = documents if documents is not None else recorded_documents()
        self.pages = {} if documents is not None else recorded_pages()
        for page in self.pages.values():
            for file in page["files"]:
                if file["filename"] in (yanked or {}):
                    file["yanked"] = yanked[file["filename"]] or True  # type: ignore[index]
        self.mirror = mirror
        self.delay = delay
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[str] = []
        self.authorizations: list[str | None] = []  # each request's Authorization header
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests.append(self.path)
                server.authorizations.append(self.headers.get("Authorization"))
                parts = self.path.strip("/").split("/")
                legacy = len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" and not server.mirror
                simple = len(parts) == 2 and parts[0] == ("mirror" if server.mirror else "simple")
                name = parts[1] if legacy or simple else None
                fault = server.faults[name].pop(0) if name and server.faults[name] else Fault()
                time.sleep(server.delay + fault.delay)
                if fault.status is not None:
                    self._send(fault.status, b'{"message": "injected failure"}')
                elif fault.body is not None:
                    self._send(200, fault.body)
                elif legacy and name in server.documents:
                    self._send(200, server.documents[name])
                elif simple and name in server.pages:
                    self._page(server.pages[name])
                elif parts and (FIXTURES / "files" / parts[-1]).is_file() and "/" not in parts[-1]:
                    self._send(200, (FIXTURES / "files" / parts[-1]).read_bytes(), "application/octet-stream")
                else:
                    self._send(404, b'{"message": "Not Found"}')

            def do_CONNECT(self) -> None:  # noqa: N802 - the stdlib's name
                """The files host, through this proxy: TLS with the test CA's certificate, then
                the same requests as above on the tunnel."""
                if self.path != f"{FILES_HOST}:443":
                    self._send(403, b"only the files host")
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.connection = server.tls.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb", self.rbufsize)
                self.wfile = self.connection.makefile("wb", 0)
                self.close_connection = False

            def _page(self, page: dict[str, Any]) -> None:
                if not server.mirror and SIMPLE_JSON in self.headers.get("Accept", ""):
                    self._send(200, json.dumps(page).encode(), SIMPLE_JSON)
                else:
                    self._send(200, html_page(page, server.mirror).encode(), "text/html")

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.tls, self.ca_file = _tls()
        self.saved: dict[str, str | None] = {}
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{'mirror' if self.mirror else 'pypi'}"

    def proxy_environment(self) -> dict[str, str]:
        """What makes a client reach the files host through this server, and trust it."""
        proxy = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return {"https_proxy": proxy, "HTTPS_PROXY": proxy, "SSL_CERT_FILE": str(self.ca_file)}

    def start(self) -> IndexServer:
        """Starts serving; the first server started stands in for the files host of this
        process and of what it runs (its environment), until it stops."""
        self.thread.start()
        if "SSL_CERT_FILE" not in os.environ or not os.environ["SSL_CERT_FILE"].startswith(str(_CA_DIR)):
            for key, value in self.proxy_environment().items():
                self.saved[key] = os.environ.get(key)
                os.environ[key] = value
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # every lookup of a run connects at once
    daemon_threads = True


SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
FILES_HOST = "files.pythonhosted.org"
# Private to this process (each parallel test worker has its own CA), removed at its exit.
_CA_DIR = Path(tempfile.mkdtemp(prefix="sbomgen-test-ca-"))
atexit.register(shutil.rmtree, _CA_DIR, True)


def _tls() -> tuple[ssl.SSLContext, Path]:
    """A server context for the files host, its certificate signed by a CA made for this
    process (written once to a private folder)."""
    ca_file, chain, key_file = _CA_DIR / "ca.pem", _CA_DIR / "host.pem", _CA_DIR / "host.key"
    if not key_file.exists():
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        def certificate(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
            now = datetime.datetime.now(datetime.timezone.utc)
            builder = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            )
            if ca:
                builder = builder.add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
                )
            else:
                builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), False)
            return builder.sign(signer, hashes.SHA256())

        ca_key, host_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca = certificate("sbomgen test CA", ca_key, "sbomgen test CA", ca_key, True)
        host = certificate(FILES_HOST, host_key, "sbomgen test CA", ca_key, False)
        pem = serialization.Encoding.PEM
        ca_file.write_bytes(ca.public_bytes(pem))
        chain.write_bytes(host.public_bytes(pem))
        key_file.write_bytes(
            host_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key_file)
    return context, ca_file


def html_page(page: dict[str, Any], mirror: bool) -> str:
    """The PEP 503 page of a PEP 691 one: each file's link with its SHA256, yanked and
    core-metadata as data- attributes; a mirror links its own copies (relative URLs)."""
    links = []
    for file in page["files"]:
        url = f"../../files/{file['filename']}" if mirror else file["url"]
        attributes = ""
        if file.get("yanked"):
            reason = file["yanked"] if isinstance(file["yanked"], str) else ""
            attributes += f' data-yanked="{html.escape(reason)}"'
        metadata = file.get("core-metadata")
        if metadata:
            value = f"sha256={metadata['sha256']}" if isinstance(metadata, dict) else "true"
            attributes += f' data-core-metadata="{value}"'
        href = html.escape(f"{url}#sha256={file['hashes']['sha256']}")
        links.append(f'<a href="{href}"{attributes}>{html.escape(file["filename"])}</a><br>')
    return "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"


def recorded_pages() -> dict[str, dict[str, Any]]:
    return {
        path.name.removesuffix(".json.gz"): json.loads(gzip.decompress(path.read_bytes()))
        for path in (FIXTURES / "simple").glob("*.json.gz")
    }


def recorded_documents() -> dict[str, bytes]:
    return {
        path.name.removesuffix(".json.gz"): gzip.decompress(path.read_bytes())
        for path in FIXTURES.glob("*.json.gz")
    }
