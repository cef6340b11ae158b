"""The Simple API: PEP 691 JSON and PEP 503 HTML pages, core metadata (PEP 658), a static mirror."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_313, sbomgen
from hypothesis import given, settings
from hypothesis import strategies as st
from index_server import IndexServer, recorded_pages

from sbomgen.documents.index import ReleaseData, file_version, read_simple_html, read_simple_json
from sbomgen.enrich.index import IndexClient, IndexSettings
from sbomgen.enrich.lookup import license_disagreement, pick_file, release_data, with_core_metadata
from sbomgen.errors import EnrichmentError, SbomgenError
from sbomgen.model import Component

# Every package the 3.13.5 SBOM looks up, with the declared license its recorded file's core
# metadata gives (None: no certain one there; "lic" reads the license files).
LICENSES_313 = {
    "cachecontrol": None,  # wheel without PEP 658 metadata, read whole: "Apache Software License" only
    "certifi": "MPL-2.0",  # License
    "dependency-groups": "MIT",  # License-Expression, read from the wheel itself
    "distlib": "PSF-2.0",  # License
    "distro": None,  # "Apache License, Version 2.0": not SPDX; classifier ambiguous
    "idna": None,  # "BSD License" classifier: ambiguous
    "msgpack": None,  # sdist, PKG-INFO: "Apache Software License" classifier only
    "packaging": None,  # two license classifiers
    "pip": "MIT",  # the wheel's own METADATA (artifact); the .metadata agrees
    "platformdirs": "MIT",  # License-Expression
    "pygments": "BSD-2-Clause",  # License
    "pyproject-hooks": "MIT",  # Classifier
    "requests": "Apache-2.0",  # License
    "resolvelib": "ISC",  # Classifier, read from the wheel itself
    "rich": "MIT",  # License
    "setuptools": "MIT",  # Classifier
    "tomli": "MIT",  # Classifier
    "tomli-w": "MIT",  # Classifier
    "truststore": "MIT",  # Classifier
    "typing-extensions": "PSF-2.0",  # License-Expression
    "urllib3": "MIT",  # License
}


def _packages(path: Path) -> dict[str, dict[str, Any]]:
    document = json.loads(path.read_text())
    return {
        p["name"].replace("_", "-").lower(): p for p in document["packages"] if p["name"].lower() in _NAMES
    }


_NAMES = set(LICENSES_313) | {"typing_extensions"}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The 3.13.5 SBOM from the PEP 691 index and from a static PEP 503 mirror."""
    base = tmp_path_factory.mktemp("simple")
    result: dict[str, Any] = {}
    for mode in ("index", "mirror"):
        with IndexServer(mirror=mode == "mirror") as server:
            out = base / f"{mode}.spdx.json"
            run = sbomgen(
                "tarball", CPYTHON_313, "-o", out, "--index-url", server.url, "--cache-dir", base / mode
            )
            assert run.returncode == 0, run.stderr
            result[mode] = _packages(out)
            result[f"{mode}-url"] = server.url
            result[f"{mode}-requests"] = list(server.requests)
    return result


def test_licenses_are_version_exact(both: dict[str, Any]) -> None:
    found = {name: p.get("licenseDeclared") for name, p in both["index"].items()}
    assert found == LICENSES_313


def test_static_mirror_gives_the_same_releases(both: dict[str, Any]) -> None:
    index, mirror = both["index"], both["mirror"]
    assert sorted(index) == sorted(mirror)
    for name in index:
        for key in ("versionInfo", "checksums", "licenseDeclared"):
            assert index[name].get(key) == mirror[name].get(key), (name, key)
        # The mirror's own copies: SPDX has no room for an IP address in a download
        # location, so the mirror's URL is the source information.
        root = both["mirror-url"].rsplit("/", 1)[0]
        assert mirror[name]["downloadLocation"] == "NOASSERTION"
        assert mirror[name]["sourceInfo"].startswith(f"downloaded from {root}/files/"), name
        assert index[name]["downloadLocation"].startswith("https://files.pythonhosted.org/packages/")
    # the mirror was asked for HTML pages only (it has no JSON, no JSON API)
    assert not [r for r in both["mirror-requests"] if r.startswith("/pypi/")]


PAGE = b"""<!DOCTYPE html><html><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=%s"
   data-core-metadata="sha256=%s">demo-1.0-py3-none-any.whl</a>
<a href="https://files.example.org/demo-1.0.tar.gz#sha256=%s" data-yanked="broken">demo-1.0.tar.gz</a>
<a href="demo-0.9.exe#sha256=%s">demo-0.9.exe</a>
<a href="demo-0.8.tar.gz">demo-0.8.tar.gz</a>
</body></html>""" % (b"a" * 64, b"b" * 64, b"c" * 64, b"d" * 64)


def test_html_page_is_read() -> None:
    document = read_simple_html(PAGE, "demo", "http://127.0.0.1:8000/simple/demo/", 1 << 20, EnrichmentError)
    assert list(document.releases) == ["1.0"]  # no SHA256, or a name without a version: no release
    wheel, sdist = document.releases["1.0"]
    assert wheel.url == "http://127.0.0.1:8000/files/demo-1.0-py3-none-any.whl"
    assert (wheel.core_metadata, wheel.metadata_sha256, wheel.yanked) == (True, "b" * 64, False)
    assert (sdist.packagetype, sdist.yanked, sdist.core_metadata) == ("sdist", True, False)


def test_plain_http_is_refused_off_this_machine() -> None:
    page = PAGE.replace(b"https://files.example.org", b"http://files.example.org")
    with pytest.raises(EnrichmentError, match="not an https URL: 'http://files.example.org/demo-1.0.tar.gz'"):
        read_simple_html(page, "demo", "https://mirror.example/simple/demo/", 1 << 20, EnrichmentError)


@pytest.mark.parametrize("url", ["https://[x/demo-1.0.tar.gz", "//[::1/demo-1.0.tar.gz"])
@pytest.mark.parametrize("reader", [read_simple_html, read_simple_json])
def test_a_url_urllib_refuses_is_a_one_line_error(url: str, reader: Any) -> None:
    """urllib raises ValueError for a host such as "[x": the page's error, not a crash."""
    sha256 = "a" * 64
    if reader is read_simple_html:
        page = f'<a href="{url}#sha256={sha256}">demo-1.0.tar.gz</a>'.encode()
    else:
        file = {"filename": "demo-1.0.tar.gz", "url": url, "hashes": {"sha256": sha256}}
        page = json.dumps({"meta": {"api-version": "1.0"}, "name": "demo", "files": [file]}).encode()
    with pytest.raises(EnrichmentError, match=r"releases\.1\.0\[0\]\.url: not an https URL: '"):
        reader(page, "demo", "https://mirror.example/simple/demo/", 1 << 20, EnrichmentError)


def test_json_page_needs_sha256() -> None:
    page = {"meta": {"api-version": "1.1"}, "name": "demo", "files": [{"filename": "demo-1.0.tar.gz",
            "url": "https://x.example/demo-1.0.tar.gz", "hashes": {"md5": "0" * 32}}]}  # fmt: skip
    with pytest.raises(EnrichmentError, match=r"files\[0\]\.hashes\.sha256: missing"):
        read_simple_json(
            json.dumps(page).encode(), "demo", "https://x.example/simple/demo/", 1 << 20, EnrichmentError
        )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: f"<a href='{t}'>{t}</a>".encode()))
def test_any_html_is_a_page_or_one_error(content: bytes) -> None:
    with contextlib.suppress(SbomgenError):  # an answer or the one-line error, nothing else
        read_simple_html(content, "demo", "https://mirror.example/simple/demo/", 1 << 20, EnrichmentError)


def _recorded(name: str, version: str) -> ReleaseData:
    page = recorded_pages()[name]
    document = read_simple_json(json.dumps(page).encode(), name, f"https://pypi.org/simple/{name}/", 1 << 26)
    return release_data(document, version)


def test_core_metadata_hash_is_checked() -> None:
    data = _recorded("requests", "2.32.3")
    chosen = pick_file(data.files)
    assert chosen is not None and chosen.metadata_sha256 is not None
    client = IndexClient(IndexSettings(url="http://127.0.0.1:9/simple", attempts=1))
    good = with_core_metadata(data, chosen, client)
    assert (good.license, good.license_source) == (
        "Apache-2.0",
        "License of requests-2.32.3-py3-none-any.whl.metadata",
    )
    forged = chosen.model_copy(update={"metadata_sha256": "0" * 64})
    bad = with_core_metadata(data, forged, client)
    assert bad.license is None
    assert (
        bad.metadata_note
        == "requests-2.32.3-py3-none-any.whl.metadata: its SHA256 is not the one the index gives"
    )


def test_license_disagreement_names_both() -> None:
    component = Component(key="pip", name="pip", version="25.1.1", license_declared="MIT")
    assert license_disagreement(component, "MIT", "License of pip.metadata") is None
    assert license_disagreement(component, None, None) is None
    assert license_disagreement(component, "Apache-2.0", "License of pip.metadata") == (
        "warning: pip 25.1.1: the artifact says MIT, the index's core metadata (License of pip.metadata) "
        "says Apache-2.0; keeping MIT"
    )


def test_release_files_by_name() -> None:
    """Wheels, sdists and the eggs old releases keep are files of the version their name
    gives (normalised); any other name is no release file."""
    assert [
        file_version(name)
        for name in (
            "six-1.10.0-py2.7.egg",
            "foo-1.0_post1-py3.4-linux_x86_64.egg",
            "idna-3.10-py3-none-any.whl",
            "msgpack-1.1.0.tar.gz",
            "foo.egg",
            "foo-1-2-3-4.egg",
            "foo-not a version.egg",
            "setup.exe",
        )
    ] == [
        ("1.10.0", "bdist_egg"),
        ("1.0.post1", "bdist_egg"),
        ("3.10", "bdist_wheel"),
        ("1.1.0", "sdist"),
        None,
        None,
        None,
        None,
    ]


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.text(max_size=40), st.sampled_from([".egg", ".whl", ".tar.gz", ".zip"])).map("".join))
def test_any_file_name(name: str) -> None:
    parsed = file_version(name)
    assert parsed is None or parsed[1] in ("bdist_egg", "bdist_wheel", "sdist")


@pytest.mark.parametrize(
    ("start", "target", "refused"),
    [
        ("https://files.example/a.whl", "http://files.example/a.whl", True),
        ("https://files.example/a.whl", "ftp://files.example/a.whl", True),
        ("https://files.example/a.whl", "HTTPS://mirror.example/a.whl", False),
        ("http://127.0.0.1:8/simple/a", "http://127.0.0.1:8/simple/a/", False),
    ],
)
def test_a_redirect_never_leaves_https(start: str, target: str, refused: bool) -> None:
    """An answer asked for over TLS never comes in the clear (a PEP 658 file without a hash
    is trusted on its transport alone)."""
    import urllib.request

    from sbomgen.enrich.index import IndexResponseError, _no_downgrade

    handler = _no_downgrade()()
    request = urllib.request.Request(start)
    if refused:
        with pytest.raises(IndexResponseError, match="redirected away from https"):
            handler.redirect_request(request, None, 302, "Found", {}, target)
    else:
        assert handler.redirect_request(request, None, 302, "Found", {}, target).full_url == target
