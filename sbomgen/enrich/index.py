"""A client for the package index: the Simple API (PEP 691 JSON, else PEP 503 HTML), and
the JSON API (``/pypi/NAME/json``) only for an index that serves neither.

Lookups of one run go out concurrently; each has a timeout, bounded retries with
backoff, and a cap on the response size. TLS is always verified.
"""

from __future__ import annotations

import configparser
import functools
import io
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from .. import __version__
from ..errors import EnrichmentError

if TYPE_CHECKING:  # the gate's models cost an import the reading child need not wait for
    import http.client

    from ..documents.index import ProjectDocument

T = TypeVar("T")
PUBLIC_INDEX = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
# PEP 691 content negotiation: JSON first, then the Simple API's HTML in either name.
_ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


class IndexUnreachable(Exception):
    """No answer from the index (connection refused, timed out, DNS): the cache may stand in."""


class IndexResponseError(Exception):
    """The index answered, but not with a usable project document."""


@dataclass(frozen=True)
class IndexSettings:
    """``url``: by default the index pip would use (``configured_index_url``), read when
    the settings are made."""

    url: str = field(default_factory=lambda: configured_index_url())
    # "user:password" an index URL gave (as pip takes it), taken out of ``url`` when the
    # settings are made: sent to the index's own host only, never written or printed.
    credentials: str | None = field(default=None, repr=False)
    timeout: float = 10.0  # for each read; a whole answer may take this many times it:
    answer_timeouts: int = 30  # a body that trickles in never hangs a run
    attempts: int = 3
    backoff: float = 0.5  # seconds before the second attempt, doubling after
    max_bytes: int = 64 << 20
    workers: int = 32

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.username is None and parts.password is None:
            return
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        host = parts.netloc.rpartition("@")[2]
        object.__setattr__(self, "url", urllib.parse.urlunsplit(parts._replace(netloc=host)))
        object.__setattr__(self, "credentials", f"{user}:{password}")

    def authorization(self, url: str) -> str | None:
        """The Basic authorization header for ``url`` where it is on the index's own scheme,
        host and port (a file host elsewhere never gets the index's credentials)."""
        if self.credentials is None:
            return None
        ours, theirs = urllib.parse.urlsplit(self.url), urllib.parse.urlsplit(url)
        if (ours.scheme.lower(), ours.netloc.lower()) != (theirs.scheme.lower(), theirs.netloc.lower()):
            return None
        import base64

        return "Basic " + base64.b64encode(self.credentials.encode()).decode("ascii")


def api_bases(url: str) -> tuple[str, str | None]:
    """(Simple API base, JSON API base or None) of an index URL in either form: pip's
    ``.../simple`` (its JSON API beside it at ``.../pypi``), a JSON API base ``.../pypi``
    (its Simple API at ``.../simple``), or any other Simple API root (a static mirror)."""
    url = url.rstrip("/")
    if url.endswith("/simple"):
        return url, url[: -len("/simple")] + "/pypi"
    if url.endswith("/pypi"):
        return url[: -len("/pypi")] + "/simple", url
    return url, None


def configured_index_url(explicit: str | None = None) -> str:
    """``--index-url``, else ``PIP_INDEX_URL``, else pip's configuration, else the public index;
    one that is no URL is a UsageError (exit 2), before anything is asked."""
    if explicit:
        return _url(explicit, "--index-url")
    if os.environ.get("PIP_INDEX_URL"):
        return _url(os.environ["PIP_INDEX_URL"], "PIP_INDEX_URL")
    for path in _pip_config_files():
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("install", "global"):
            if parser.has_option(section, "index-url"):
                return _url(parser.get(section, "index-url"), f"index-url in {path}")
    return PUBLIC_INDEX


def _url(value: str, source: str) -> str:
    from ..documents.text import unsafe_character
    from ..errors import UsageError

    # A password in it is never printed: up to the last '@', as one written unencoded may
    # hold '/', '?' or '#' (then the URL does not parse, and the parser's reason quotes it).
    shown = re.sub(r"(?s)//.*@", "//…@", value)
    unsafe = unsafe_character(value)
    if unsafe is not None:
        raise UsageError(f"{source}: the index URL {shown!r} holds {unsafe}")
    try:
        urllib.parse.urlsplit(value).port  # noqa: B018 - a port that is no number raises here
    except ValueError as exc:  # an unclosed [ of an IPv6 host, a port out of range...
        reason = "its host and port do not parse" if "@" in value else str(exc)
        raise UsageError(f"{source}: {shown!r} is not a URL ({reason})") from None
    parts = urllib.parse.urlsplit(value)
    # What cache import takes. Only --index-url: pip's own settings may name a file:// index,
    # which an offline run never asks.
    if source == "--index-url" and (parts.scheme.lower() not in ("http", "https") or not parts.hostname):
        raise UsageError(f"{source}: {shown!r} is not an http(s) URL with a host")
    return value.rstrip("/")


def _pip_config_files() -> list[Path]:
    # pip reads these in order, later ones overriding; we want the last that sets index-url.
    if os.environ.get("PIP_CONFIG_FILE"):
        return [Path(os.environ["PIP_CONFIG_FILE"])]
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config"))
    candidates = [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg / "pip" / "pip.conf"]
    if os.environ.get("VIRTUAL_ENV"):
        candidates.append(Path(os.environ["VIRTUAL_ENV"]) / "pip.conf")
    return list(reversed([p for p in candidates if p.is_file()]))


class IndexClient:
    """Imports its network modules when made: an offline run never loads them."""

    def __init__(self, settings: IndexSettings) -> None:
        import ssl

        self.settings = settings
        self._tls = ssl.create_default_context()

    def project(self, name: str) -> ProjectDocument:
        """The project's files by release, URLs made absolute: its Simple API page, or its
        JSON API document where the index has no Simple API page (HTTP 404). An answer that
        is not a valid page is an EnrichmentError naming the project."""
        from ..documents.index import read_project, read_simple_html, read_simple_json

        simple, legacy = api_bases(self.settings.url)
        quoted = urllib.parse.quote(name)
        try:
            body, final_url, kind = self._retried(f"{simple}/{quoted}/", _ACCEPT)
        except _NotFound:
            if legacy is None:
                raise IndexResponseError(f"{simple}/{quoted}/: not found on the index (HTTP 404)") from None
            try:
                body, final_url, _ = self._retried(f"{legacy}/{quoted}/json", "application/json")
            except _NotFound as exc:
                raise IndexResponseError(f"{exc}: not found on the index (HTTP 404)") from None
            return read_project(body, name, final_url, self.settings.max_bytes, EnrichmentError)
        reader = read_simple_json if "json" in kind else read_simple_html
        return reader(body, name, final_url, self.settings.max_bytes, EnrichmentError)

    def file(self, url: str, max_bytes: int | None = None) -> bytes:
        """A small file the index serves (a PEP 658 ``.metadata``), at most ``max_bytes``
        (else the settings' cap) long."""
        try:
            return self._retried(url, "*/*", max_bytes)[0]
        except _NotFound:
            raise IndexResponseError(f"{url}: not found on the index (HTTP 404)") from None

    def save(self, url: str, max_bytes: int, handle: BinaryIO) -> None:
        """A distribution file the index serves, at most ``max_bytes`` long, written to
        ``handle`` as it arrives (each attempt from its start), never held whole in memory."""
        try:
            self._retried(url, "*/*", max_bytes, handle)
        except _NotFound:
            raise IndexResponseError(f"{url}: not found on the index (HTTP 404)") from None

    def _retried(
        self, url: str, accept: str, max_bytes: int | None = None, sink: BinaryIO | None = None
    ) -> tuple[bytes, str, str]:
        last: Exception | None = None
        for attempt in range(self.settings.attempts):
            if attempt:
                time.sleep(self.settings.backoff * 2 ** (attempt - 1))
            try:
                return self._get(url, accept, max_bytes or self.settings.max_bytes, sink)
            except IndexUnreachable as exc:
                last = exc
            except _Transient as exc:
                last = IndexResponseError(str(exc))
        assert last is not None
        raise last

    def projects(self, names: Iterable[str]) -> dict[str, ProjectDocument | Exception]:
        """Look up several projects at once; each result is a document or the error it met."""
        return self.each(names, self.project)

    def each(self, names: Iterable[str], job: Callable[[str], T]) -> dict[str, T | Exception]:
        """``job`` for each name at once (one concurrent round); each result is its answer
        or the index error it met."""
        from concurrent.futures import ThreadPoolExecutor

        unique = sorted(set(names))
        if not unique:
            return {}

        def one(name: str) -> T | Exception:
            try:
                return job(name)
            except (IndexUnreachable, IndexResponseError) as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(self.settings.workers, len(unique))) as pool:
            return dict(zip(unique, pool.map(one, unique), strict=True))

    def _get(
        self, url: str, accept: str, max_bytes: int, sink: BinaryIO | None = None
    ) -> tuple[bytes, str, str]:
        import http.client
        import ssl
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url, headers={"Accept": accept, "User-Agent": f"sbomgen/{__version__}"}
        )
        if (authorization := self.settings.authorization(url)) is not None:
            request.add_unredirected_header("Authorization", authorization)  # not sent on to a redirect
        try:
            opener = urllib.request.build_opener(
                urllib.request.HTTPSHandler(context=self._tls), _no_downgrade()
            )
            with opener.open(request, timeout=self.settings.timeout) as response:
                own = io.BytesIO()
                out = own if sink is None else sink
                _copy(response, out, max_bytes + 1, self.settings.timeout * self.settings.answer_timeouts)
                body = own.getvalue()  # its buffer itself, not a copy
                final_url = response.geturl()
                kind = response.headers.get_content_type()
                larger = out.tell() > max_bytes
                if not larger and getattr(response, "length", None):  # what Content-Length promised
                    raise _Transient(f"{url}: the answer ended {response.length} bytes short")
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(f"{url}: HTTP {exc.code}") from None
            if exc.code == 404:
                raise _NotFound(url) from None
            raise IndexResponseError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise IndexResponseError(f"{url}: TLS verification failed ({reason})") from None
            raise IndexUnreachable(f"{url}: {reason or 'timed out'}") from None
        except http.client.HTTPException as exc:  # a broken chunk, status line or header
            raise _Transient(f"{url}: not a well-formed HTTP answer ({type(exc).__name__})") from None
        if larger:
            raise IndexResponseError(f"{url}: response larger than {max_bytes} bytes")
        return body, final_url, kind


@functools.cache
def _no_downgrade() -> type:
    import urllib.request

    class NoDowngrade(urllib.request.HTTPRedirectHandler):
        """Redirects are followed, but never from https to anything else: an answer asked for
        over TLS (a PEP 658 file without a hash is trusted on it) never comes in the clear."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            leaves = urllib.parse.urlsplit(newurl).scheme.lower() != "https"
            if urllib.parse.urlsplit(req.full_url).scheme.lower() == "https" and leaves:
                raise IndexResponseError(f"{req.full_url}: redirected away from https, to {newurl[:200]!r}")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return NoDowngrade


def _copy(response: http.client.HTTPResponse, sink: BinaryIO, most: int, seconds: float) -> None:
    """Up to ``most`` bytes of ``response`` into ``sink``, from its start, within ``seconds``
    (``read1``: what one read of the socket gives, where ``read`` would wait for all it asks)."""
    sink.seek(0)
    sink.truncate()
    deadline = time.monotonic() + seconds
    while sink.tell() < most and (chunk := response.read1(min(1 << 16, most - sink.tell()))):
        sink.write(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the whole answer took longer than {seconds:g} seconds")


class _NotFound(Exception):
    """HTTP 404: for a Simple API page, the sign to ask the JSON API."""


class _Transient(Exception):
    """Worth another attempt: a server error or rate limit."""
