"""A client for the package index's JSON API (the project endpoint, ``/pypi/NAME/json``).

Lookups of one run go out concurrently; each has a timeout, bounded retries with
backoff, and a cap on the response size. TLS is always verified.
"""

from __future__ import annotations

import configparser
import os
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import EnrichmentError

if TYPE_CHECKING:  # the gate's models cost an import the reading child need not wait for
    from ..documents.index import ProjectDocument

PUBLIC_INDEX = "https://pypi.org/pypi"


class IndexUnreachable(Exception):
    """No answer from the index (connection refused, timed out, DNS): the cache may stand in."""


class IndexResponseError(Exception):
    """The index answered, but not with a usable project document."""


@dataclass(frozen=True)
class IndexSettings:
    """``url``: by default the index pip would use (``configured_index_url``), read when
    the settings are made."""

    url: str = field(default_factory=lambda: configured_index_url())
    timeout: float = 10.0
    attempts: int = 3
    backoff: float = 0.5  # seconds before the second attempt, doubling after
    max_bytes: int = 64 << 20
    workers: int = 32


def json_api_base(url: str) -> str:
    """The JSON API base for an index URL; a pip-style ``.../simple`` URL maps to ``.../pypi``."""
    url = url.rstrip("/")
    if url.endswith("/simple"):
        url = url[: -len("/simple")] + "/pypi"
    return url


def configured_index_url(explicit: str | None = None) -> str:
    """``--index-url``, else ``PIP_INDEX_URL``, else pip's configuration, else the public index."""
    if explicit:
        return json_api_base(explicit)
    if os.environ.get("PIP_INDEX_URL"):
        return json_api_base(os.environ["PIP_INDEX_URL"])
    for path in _pip_config_files():
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("install", "global"):
            if parser.has_option(section, "index-url"):
                return json_api_base(parser.get(section, "index-url"))
    return PUBLIC_INDEX


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
        """The project document for ``name``, with file URLs made absolute. An answer that
        is not a valid project document is an EnrichmentError naming the project."""
        url = f"{self.settings.url}/{urllib.parse.quote(name)}/json"
        last: Exception | None = None
        for attempt in range(self.settings.attempts):
            if attempt:
                time.sleep(self.settings.backoff * 2 ** (attempt - 1))
            try:
                return self._get(url, name)
            except IndexUnreachable as exc:
                last = exc
            except _Transient as exc:
                last = IndexResponseError(str(exc))
        assert last is not None
        raise last

    def projects(self, names: Iterable[str]) -> dict[str, ProjectDocument | Exception]:
        """Look up several projects at once; each result is a document or the error it met."""
        from concurrent.futures import ThreadPoolExecutor

        unique = sorted(set(names))
        if not unique:
            return {}

        def one(name: str) -> ProjectDocument | Exception:
            try:
                return self.project(name)
            except (IndexUnreachable, IndexResponseError) as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(self.settings.workers, len(unique))) as pool:
            return dict(zip(unique, pool.map(one, unique), strict=True))

    def _get(self, url: str, name: str) -> ProjectDocument:
        import ssl
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": f"sbomgen/{__version__}"}
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.settings.timeout, context=self._tls
            ) as response:
                body = response.read(self.settings.max_bytes + 1)
                final_url = response.geturl()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(f"{url}: HTTP {exc.code}") from None
            if exc.code == 404:
                raise IndexResponseError(f"{url}: not found on the index (HTTP 404)") from None
            raise IndexResponseError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError):
                raise IndexResponseError(f"{url}: TLS verification failed ({reason})") from None
            raise IndexUnreachable(f"{url}: {reason or 'timed out'}") from None
        if len(body) > self.settings.max_bytes:
            raise IndexResponseError(f"{url}: response larger than {self.settings.max_bytes} bytes")
        from ..documents.index import read_project

        return read_project(body, name, final_url, self.settings.max_bytes, EnrichmentError)


class _Transient(Exception):
    """Worth another attempt: a server error or rate limit."""
