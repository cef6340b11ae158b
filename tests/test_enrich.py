"""Index metadata: a loopback index, the verified cache, offline use and every fault."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CPYTHON_313,
    REFERENCE_313,
    online_sbom,
    sbomgen,
    small_release,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from index_server import Fault, IndexServer
from packaging.utils import canonicalize_name

from sbomgen.enrich.index import IndexClient, IndexResponseError, IndexSettings, api_bases

# Where CPython's release tooling took a platform wheel of a package pip vendors as pure
# Python, sbomgen records the pure-Python wheel, else the sdist: the code pip vendors.
PURE_PYTHON_CHOICES = {
    "msgpack": (
        "https://files.pythonhosted.org/packages/cb/d0/7555686ae7ff5731205df1012ede15dd9d927f6227ea151e901c7406af4f/"
        "msgpack-1.1.0.tar.gz",
        "dd432ccc2c72b914e4cb77afce64aab761c1137cc698be3984eee260bcb2896e",
    ),
    "tomli": (
        "https://files.pythonhosted.org/packages/6e/c2/61d3e0f47e2b74ef40a68b9e6ad5984f6241a942f7cd3bbfbdbd03861ea9/"
        "tomli-2.2.1-py3-none-any.whl",
        "cb55c73c5f4408779d0cf3eef9f762b9c9f147a77de7b258bef0a5628adc85cc",
    ),
}


def sources(path: Path) -> dict[str, tuple[str, str]]:
    """Package name -> (download location, SHA256) for pip and the packages it vendors."""
    document = json.loads(path.read_text())
    pip = next(p["SPDXID"] for p in document["packages"] if p["name"] == "pip")
    vendored = {r["relatedSpdxElement"] for r in document["relationships"] if r["spdxElementId"] == pip}
    result = {}
    for package in document["packages"]:
        if package["SPDXID"] in vendored | {pip}:
            sha256 = next(
                (c["checksumValue"] for c in package.get("checksums", []) if c["algorithm"] == "SHA256"), ""
            )
            result[package["name"].replace("_", "-")] = (package["downloadLocation"], sha256)
    return result


@pytest.fixture(scope="module")
def online(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run against the loopback index with a fresh cache; the server then stops."""
    return online_sbom(tmp_path_factory.mktemp("online"))


def test_sources_match_release_tooling(online: dict[str, Any]) -> None:
    ours, reference = sources(online["out"]), sources(REFERENCE_313)
    assert len(ours) == 21
    assert set(ours) == set(reference)
    for name in sorted(ours):
        assert ours[name] == PURE_PYTHON_CHOICES.get(name, reference[name]), name
    # every lookup is the project's Simple API page (PEP 691), never the per-version one;
    # the core metadata files come from the files host. macholib (Misc/sbom.spdx.json's
    # pkg:pypi package) is looked up too, keeping the location and SHA256 CPython states.
    assert sorted(r for r in online["requests"] if r.startswith("/simple/")) == sorted(
        f"/simple/{name}/" for name in [*ours, "macholib"]
    )
    assert "warning" not in online["stderr"].replace("warning: Misc/sbom.spdx.json says expat", "")


def test_cache_alone_gives_the_same_bytes(online: dict[str, Any], tmp_path: Path) -> None:
    # The server is gone: the run falls back to the cache and says which entries it used.
    fallback = tmp_path / "fallback.json"
    run = sbomgen(
        "tarball", CPYTHON_313, "-o", fallback, "--index-url", online["url"], "--cache-dir", online["cache"]
    )
    assert run.returncode == 0, run.stderr
    assert "the index could not be reached" in run.stderr
    assert "used cached index metadata for: cachecontrol 0.14.2, certifi 2025.1.31," in run.stderr
    assert fallback.read_bytes() == online["out"].read_bytes()

    offline = tmp_path / "offline.json"
    run = sbomgen(
        "tarball",
        CPYTHON_313,
        "-o",
        offline,
        "--offline",
        "--index-url",
        online["url"],
        "--cache-dir",
        online["cache"],
    )
    assert run.returncode == 0, run.stderr
    assert "could not be reached" not in run.stderr
    assert offline.read_bytes() == online["out"].read_bytes()


def test_export_import_carries_the_cache(online: dict[str, Any], tmp_path: Path) -> None:
    export = tmp_path / "index-cache.json"
    assert sbomgen("cache", "export", export, "--cache-dir", online["cache"]).returncode == 0
    fresh = tmp_path / "fresh-cache"
    run = sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", fresh)
    assert run.returncode == 0, run.stderr
    assert "imported 22 entries" in run.stderr  # pip, what it vendors, and macholib
    out = tmp_path / "imported.json"
    run = sbomgen(
        "tarball", CPYTHON_313, "-o", out, "--offline", "--index-url", online["url"], "--cache-dir", fresh
    )
    assert run.returncode == 0, run.stderr
    # Imported unsigned: the same SBOM, but for one annotation per package that says so
    # (a signed export gives the very bytes: test_signed_export.py).
    imported = json.loads(out.read_text())
    marked = 0
    for package in imported["packages"]:
        kept = [a for a in package.get("annotations", ()) if "index-metadata-unsigned" not in a["comment"]]
        marked += len(package.get("annotations", ())) - len(kept)
        package.update(annotations=kept) if kept else package.pop("annotations", None)
    assert marked == 22
    assert imported == json.loads(online["out"].read_text())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda text: text.replace('"tomli-2.2.1-py3-none-any.whl"', '"tomli-2.2.1-py3-none-any.whI"'),
            "checksum",
        ),
        (lambda text: text.replace('"version":1', '"version":99'), "version 99 is not supported"),
        (lambda text: text[: len(text) // 2], "not JSON"),
        (lambda text: '{"format": "something-else"}', "not a cache export"),
    ],
)
def test_damaged_export_is_refused(online: dict[str, Any], tmp_path: Path, damage: Any, message: str) -> None:
    export = tmp_path / "index-cache.json"
    assert sbomgen("cache", "export", export, "--cache-dir", online["cache"]).returncode == 0
    export.write_text(damage(export.read_text()))
    fresh = tmp_path / "fresh"
    run = sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", fresh)
    assert run.returncode == 8
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not fresh.exists()  # nothing from a damaged file was trusted, not even an empty cache made


def test_corrupted_cache_is_detected_and_rebuilt(online: dict[str, Any], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    with IndexServer() as server:
        out = tmp_path / "out.json"
        run = sbomgen("tarball", CPYTHON_313, "-o", out, "--index-url", server.url, "--cache-dir", cache)
    assert run.returncode == 0, run.stderr
    assert "is not valid" in run.stderr and "rebuilt" in run.stderr
    # The same SBOM but for which index answered (issue #19): this server, not the first.
    assert f"sbomgen:index-url {server.url}".encode() in out.read_bytes()
    assert out.read_bytes().replace(server.url.encode(), online["url"].encode()) == online["out"].read_bytes()
    assert len(list(cache.glob("index.sqlite3.corrupt-*"))) == 1


def test_tampered_cache_entry_is_not_used(online: dict[str, Any], tmp_path: Path) -> None:
    export = tmp_path / "e.json"
    assert sbomgen("cache", "export", export, "--cache-dir", online["cache"]).returncode == 0
    cache = tmp_path / "cache"
    assert sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", cache).returncode == 0
    db = sqlite3.connect(cache / "index.sqlite3")
    db.execute("UPDATE release SET data = replace(data, 'https://files', 'https://evil') WHERE name = 'idna'")
    db.commit()
    db.close()
    run = sbomgen(
        "tarball",
        CPYTHON_313,
        "-o",
        tmp_path / "o.json",
        "--offline",
        "--cache-dir",
        cache,
        "--index-url",
        online["url"],
    )
    assert run.returncode == 0
    assert "cache entry idna 3.10 fails its checksum; not used" in run.stderr
    assert "no index metadata for idna 3.10" in run.stderr
    assert "evil" not in (tmp_path / "o.json").read_text()


def test_offline_cache_miss_says_why(online: dict[str, Any], tmp_path: Path) -> None:
    """PIP_INDEX_URL names another (unreachable) mirror: the cache answers whatever index
    filled it, the same bytes as online; each warning says why an entry is missing, and
    what to do."""
    cache = tmp_path / "cache"
    other = "http://127.0.0.1:9/simple"

    def offline_run(name: str) -> list[str]:
        out = tmp_path / f"{name}.json"
        run = sbomgen(
            "tarball", CPYTHON_313, "-o", out, "--offline", "--cache-dir", cache, env={"PIP_INDEX_URL": other}
        )
        assert run.returncode == 0, run.stderr
        return [line for line in run.stderr.splitlines() if "no index metadata" in line]

    nothing = "their download location and checksum are NOASSERTION"
    fill = "`sbomgen cache warm ARTIFACT` where the index can be reached, or `sbomgen cache import` an export"
    pip_and_vendored = sources(online["out"])  # what the index is asked about
    looked_up = sorted(
        f"{canonicalize_name(p['name'])} {p['versionInfo']}"
        for p in json.loads(online["out"].read_text())["packages"]
        if canonicalize_name(p["name"]) in pip_and_vendored
    )
    assert len(looked_up) == 21
    releases = ", ".join(looked_up)
    # macholib's location and SHA256 are CPython's own (Misc/sbom.spdx.json): only what the
    # index adds is missing.
    stated = (
        "sbomgen: warning: no index metadata for macholib 1.0: their distribution file and declared "
        "license are not known (the location and checksum the artifact states stand); "
    )
    assert offline_run("none") == [
        f"sbomgen: warning: no index metadata for {releases}: {nothing}; "
        f"no cache at {cache}: fill it with {fill}",
        f"{stated}no cache at {cache}: fill it with {fill}",
    ]
    assert offline_run("empty") == [
        f"sbomgen: warning: no index metadata for {releases}: {nothing}; an empty cache at {cache}: "
        f"fill it with {fill}",
        f"{stated}an empty cache at {cache}: fill it with {fill}",
    ]

    export = tmp_path / "index-cache.json"
    assert sbomgen("cache", "export", export, "--cache-dir", online["cache"]).returncode == 0
    assert sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", cache).returncode == 0
    assert offline_run("imported") == []

    db = sqlite3.connect(cache / "index.sqlite3")
    db.execute("DELETE FROM release WHERE name = 'idna'")
    db.execute("UPDATE release SET subject = ? WHERE name = 'pip'", ("0" * 64,))
    db.commit()
    db.close()
    pip_sha256 = pip_and_vendored["pip"][1]
    assert offline_run("damaged") == [
        f"sbomgen: warning: no index metadata for pip 25.1.1: {nothing}; the cache at {cache} has an entry "
        f"for pip 25.1.1 for another file, not the bundled pip-25.1.1-py3-none-any.whl "
        f"(SHA256 {pip_sha256[:12]}…): "
        "run `sbomgen cache warm` on this artifact where the index can be reached",
        f"sbomgen: warning: no index metadata for idna 3.10: {nothing}; the cache at {cache} has no entry "
        f"for idna 3.10: add it with {fill}",
    ]


# --- faults, on a small tree whose pip wheel the test publishes itself -----------------


def run_small(tmp_path: Path, server: IndexServer, *extra: str) -> tuple[Any, dict[str, Any] | None]:
    out = tmp_path / "out.json"
    path = tmp_path / "Python-3.99.0.tgz"
    run = sbomgen(
        "tarball", path, "-o", out, "--index-url", server.url, "--cache-dir", tmp_path / "cache", *extra
    )
    document = json.loads(out.read_text()) if out.exists() else None
    return run, document


def package(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in document["packages"] if p["name"] == name)


def test_small_release_resolves(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    with IndexServer(documents) as server:
        run, document = run_small(tmp_path, server)
    assert run.returncode == 0, run.stderr
    assert document is not None
    pip = package(document, "pip")
    # A relative file URL is resolved against the index's answer. SPDX's URL grammar has
    # no room for an IP address, so this one is kept as source information.
    assert pip["downloadLocation"] == "NOASSERTION"
    assert (
        pip["sourceInfo"]
        == "downloaded from " + server.url.removesuffix("/pypi") + "/files/pip-99.0-py3-none-any.whl"
    )
    assert pip["licenseDeclared"] == "MIT"
    requests = package(document, "requests")
    assert requests["downloadLocation"].endswith("/requests-2.32.3-py3-none-any.whl")


def test_credentials_in_the_index_url_go_to_the_index_alone_and_are_never_written(tmp_path: Path) -> None:
    """A private mirror's URL with a user and password (as pip takes it): sent as Basic
    authorization to the index's host, never in the SBOM, the cache, or a message."""
    import base64

    _, documents = small_release(tmp_path)
    secret = "s3cret%2Fpart"
    with IndexServer(documents) as server:
        url = server.url.replace("://", f"://builder:{secret}@")
        out = tmp_path / "out.json"
        run = sbomgen(
            "tarball",
            tmp_path / "Python-3.99.0.tgz",
            "-o",
            out,
            "--index-url",
            url,
            "--cache-dir",
            tmp_path / "c",
        )
    assert run.returncode == 0, run.stderr
    assert server.authorizations and set(server.authorizations) == {
        "Basic " + base64.b64encode(b"builder:s3cret/part").decode()
    }
    assert server.url.encode() in out.read_bytes()  # the index that answered, without its password
    down = sbomgen(
        "tarball",
        tmp_path / "Python-3.99.0.tgz",
        "-o",
        tmp_path / "down.json",
        "--index-url",
        f"http://builder:{secret}@127.0.0.1:9/simple",
        "--cache-dir",
        tmp_path / "d",
    )
    assert down.returncode == 0 and "could not be reached" in down.stderr
    bad = sbomgen("tarball", tmp_path / "Python-3.99.0.tgz", "--index-url", f"http://u:{secret}@[::1/simple")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    written = [out.read_bytes(), (tmp_path / "down.json").read_bytes()]
    written += [run.stderr.encode(), down.stderr.encode(), bad.stderr.encode()]
    written += [f.read_bytes() for f in tmp_path.rglob("*") if f.is_file() and f.parent.name in ("c", "d")]
    assert not [text for text in written if b"s3cret" in text]


def test_server_down(tmp_path: Path) -> None:
    small_release(tmp_path)
    server = IndexServer({})
    server.httpd.server_close()  # bound, never served, closed: connections are refused
    run, document = run_small(tmp_path, server)
    assert run.returncode == 0, run.stderr
    assert "the index could not be reached" in run.stderr
    assert "no index metadata for pip 99.0, requests 2.32.3" in run.stderr
    assert document is not None and package(document, "pip")["downloadLocation"] == "NOASSERTION"
    (tmp_path / "out.json").unlink()
    run, document = run_small(tmp_path, server, "--strict")
    assert run.returncode == 7
    assert run.stderr.strip().splitlines()[-1].startswith("sbomgen: error: no index metadata for pip 99.0")
    assert document is None


def test_server_errors_are_retried(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    with IndexServer(documents) as server:
        server.faults["pip"] += [Fault(status=500), Fault(status=500)]
        run, document = run_small(tmp_path, server)
    assert run.returncode == 0, run.stderr
    # the Simple API page three times (two server errors, then a 404: this index has none),
    # then the JSON API
    assert server.requests.count("/simple/pip/") == 3
    assert server.requests.count("/pypi/pip/json") == 1
    assert document is not None and package(document, "pip")["sourceInfo"].endswith(
        "/pip-99.0-py3-none-any.whl"
    )


def test_slow_response_times_out(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    with IndexServer(documents) as server:
        server.faults["pip"] += [Fault(delay=3)] * 3
        run, document = run_small(tmp_path, server, "--timeout", "0.5")
    assert run.returncode == 0, run.stderr
    assert "the index could not be reached" in run.stderr and "timed out" in run.stderr
    assert "no index metadata for pip 99.0" in run.stderr
    assert document is not None and package(document, "requests")["downloadLocation"] != "NOASSERTION"


def test_malformed_json(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    with IndexServer(documents) as server:
        server.faults["pip"].append(Fault(body=b'{"info": {"name": "pip"'))
        run, document = run_small(tmp_path, server)
    # An index that answers with something other than a project document is not one to trust.
    assert run.returncode == 7
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("sbomgen: error: the index's answer for pip: not JSON")
    assert document is None


def test_oversized_body(tmp_path: Path) -> None:
    with IndexServer({"big": b'{"releases": {}, "pad": "' + b"x" * 5000 + b'"}'}) as server:
        client = IndexClient(IndexSettings(url=server.url, max_bytes=4096, attempts=1))
        with pytest.raises(IndexResponseError, match="response larger than 4096 bytes"):
            client.project("big")


def test_pip_not_the_published_one(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    pip = json.loads(documents["pip"])
    pip["releases"]["99.0"][0]["digests"]["sha256"] = "0" * 64
    documents["pip"] = json.dumps(pip).encode()
    with IndexServer(documents) as server:
        run, document = run_small(tmp_path, server)
    assert run.returncode == 7
    assert "the bundled pip-99.0-py3-none-any.whl is not the published one" in run.stderr
    assert document is None


def test_a_distribution_file_that_is_not_the_indexed_one_is_not_read(tmp_path: Path) -> None:
    _, documents = small_release(tmp_path)
    with IndexServer(documents) as server:
        run, document = run_small(tmp_path, server)
    assert run.returncode == 0, run.stderr
    assert document is not None and package(document, "requests")["licenseConcluded"] == "Apache-2.0"
    requests = json.loads(documents["requests"])
    for file in requests["releases"]["2.32.3"]:
        file["digests"]["sha256"] = "0" * 64
    documents["requests"] = json.dumps(requests).encode()
    (tmp_path / "out.json").unlink()
    with IndexServer(documents) as server:  # the index now says another SHA256 for the file
        run, document = run_small(tmp_path, server)
    assert run.returncode == 0, run.stderr
    assert (
        "sbomgen: warning: requests 2.32.3: the license files of requests-2.32.3-py3-none-any.whl were not "
        "read (requests-2.32.3-py3-none-any.whl: its SHA256 is not the one the index gives)"
    ) in run.stderr
    assert document is not None and package(document, "requests")["licenseConcluded"] == "NOASSERTION"


def test_index_url_forms() -> None:
    assert api_bases("https://pypi.org/simple/") == ("https://pypi.org/simple", "https://pypi.org/pypi")
    assert api_bases("https://mirror.example/pypi") == (
        "https://mirror.example/simple",
        "https://mirror.example/pypi",
    )
    assert api_bases("https://mirror.example/static/") == ("https://mirror.example/static", None)


def test_index_url_from_pip_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sbomgen.enrich.index import PUBLIC_INDEX, configured_index_url

    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.example.org/simple/\n")
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    assert configured_index_url() == "https://mirror.example.org/simple"
    monkeypatch.setenv("PIP_INDEX_URL", "https://other.example.org/simple")
    assert configured_index_url() == "https://other.example.org/simple"
    assert configured_index_url("https://given.example.org/pypi/") == "https://given.example.org/pypi"
    monkeypatch.delenv("PIP_INDEX_URL")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "missing.conf"))
    assert configured_index_url() == PUBLIC_INDEX


# Vendored package -> (concluded license, copyright text, the license files of its recorded
# distribution file with what each said), in the 3.13.5 SBOM. The artifact's own finding
# stands where it is certain (cachecontrol, tomli: their modules' SPDX-License-Identifier
# lines). Not exact: certifi's file is MPL-2.0's standard header inside other text (what the
# certificates are, a "LICENSE BLOCK" frame, a revision line).
VENDORED_313 = {
    "cachecontrol": ("Apache-2.0", "SPDX-FileCopyrightText: 2015 Eric Larson", []),
    "certifi": (
        "NOASSERTION",
        None,
        [("certifi-2025.1.31.dist-info/LICENSE", "not exact (no SPDX License List text)")],
    ),
    "dependency-groups": (
        "MIT",
        "Copyright (c) 2024-present Stephen Rosen",
        [("dependency_groups-1.3.1.dist-info/licenses/LICENSE.txt", "MIT")],
    ),
    # distlib's and typing-extensions' LICENSE are copies of CPython's: the PSF, BeOpen, CNRI
    # and CWI stack is the list's Python-2.0.1 (after a history, not license text).
    "distlib": (
        "Python-2.0.1",
        "Copyright (c) 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010\n"
        "Copyright (c) 1995-2001 Corporation for National Research Initiatives\n"
        "Copyright (c) 1991 - 1995, Stichting Mathematisch Centrum Amsterdam, The Netherlands\n"
        "Copyright (C) 2012-2023 Vinay Sajip\nCopyright (C) 2013-2017 Vinay Sajip\n"
        "Copyright (C) 2012-2023 The Python Software Foundation\nCopyright (C) 2013-2023 Vinay Sajip\n"
        "Copyright (C) 2012-2023 Python Software Foundation\n"
        "Copyright (C) 2012 The Python Software Foundation",
        [
            (
                "distlib-0.3.9.dist-info/LICENSE.txt parts 01-04 (the PSF, BeOpen, CNRI and CWI agreements)",
                "Python-2.0.1",
            )
        ],
    ),
    # distro.py's leading comment is Apache-2.0's standard header, exactly.
    "distro": ("Apache-2.0", "Copyright 2015-2021 Nir Cohen", []),
    "idna": (
        "BSD-3-Clause",
        "Copyright (c) 2013-2024, Kim Davies and contributors",
        [("idna-3.10.dist-info/LICENSE.md", "BSD-3-Clause")],
    ),
    "msgpack": (
        "Apache-2.0",
        "Copyright (C) 2008-2011 INADA Naoki",
        [("COPYING", "Apache-2.0 (its standard license header)")],
    ),
    # LICENSE says "either of" LICENSE.APACHE or LICENSE.BSD, each exactly one list text.
    "packaging": (
        "Apache-2.0 OR BSD-2-Clause",
        "Copyright (c) Donald Stufft and individual contributors",
        [
            (
                "packaging-25.0.dist-info/licenses/LICENSE",
                "Apache-2.0 OR BSD-2-Clause (either of the licenses of LICENSE.APACHE or LICENSE.BSD)",
            ),
            ("packaging-25.0.dist-info/licenses/LICENSE.APACHE", "Apache-2.0 (one of an either-of choice)"),
            ("packaging-25.0.dist-info/licenses/LICENSE.BSD", "BSD-2-Clause (one of an either-of choice)"),
        ],
    ),
    "platformdirs": (
        "MIT",
        "Copyright (c) 2010-202x The platformdirs developers",
        [("platformdirs-4.3.7.dist-info/licenses/LICENSE", "MIT")],
    ),
    "pygments": (
        "BSD-2-Clause",
        "Copyright (c) 2006-2022 by the respective authors (see AUTHORS file)\n"
        "Copyright 2006-2025 by the Pygments team, see AUTHORS",
        [("pygments-2.19.1.dist-info/licenses/LICENSE", "BSD-2-Clause")],
    ),
    "pyproject-hooks": (
        "MIT",
        "Copyright (c) 2017 Thomas Kluyver",
        [("pyproject_hooks-1.2.0.dist-info/LICENSE", "MIT")],
    ),
    "requests": (
        "Apache-2.0",
        "(c) 2017 by Kenneth Reitz\nCopyright Kenneth Reitz\n(c) 2012 by Kenneth Reitz",
        [("requests-2.32.3.dist-info/LICENSE", "Apache-2.0")],
    ),
    "resolvelib": (
        "ISC",
        "Copyright (c) 2018, Tzu-ping Chung",
        [("resolvelib-1.1.0.dist-info/LICENSE", "ISC")],
    ),
    "rich": ("MIT", "Copyright (c) 2020 Will McGugan", [("rich-14.0.0.dist-info/LICENSE", "MIT")]),
    "setuptools": ("MIT", None, [("setuptools-70.3.0.dist-info/LICENSE", "MIT")]),
    "tomli": ("MIT", "SPDX-FileCopyrightText: 2021 Taneli Hukkinen", []),
    "tomli-w": ("MIT", "Copyright (c) 2021 Taneli Hukkinen", [("tomli_w-1.2.0.dist-info/LICENSE", "MIT")]),
    "truststore": (
        "MIT",
        "Copyright (c) 2022 Seth Michael Larson",
        [("truststore-0.10.1.dist-info/LICENSE", "MIT")],
    ),
    "typing-extensions": (
        "0BSD AND Python-2.0.1",
        "Copyright (c) 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010, 2011, 2012, 2013, 2014, "
        "2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023 Python Software Foundation\n"
        "Copyright (c) 1995-2001 Corporation for National Research Initiatives\n"
        "Copyright (c) 1991 - 1995, Stichting Mathematisch Centrum Amsterdam, The Netherlands",
        [
            (
                "typing_extensions-4.13.2.dist-info/licenses/LICENSE part 05 (ZERO-CLAUSE BSD LICENSE FOR "
                "CODE IN THE PYTHON DOCUMENTATION)",
                "0BSD",
            ),
            (
                "typing_extensions-4.13.2.dist-info/licenses/LICENSE parts 01-04 (the PSF, BeOpen, CNRI and "
                "CWI agreements)",
                "Python-2.0.1",
            ),
        ],
    ),
    "urllib3": (
        "MIT",
        "Copyright (c) 2008-2020 Andrey Petrov and contributors (see CONTRIBUTORS.txt)",
        [("urllib3-1.26.20.dist-info/LICENSE.txt", "MIT")],
    ),
}


RECORDED_FILE_SAYS = (
    r"(\S+(?: parts? \d\d(?:-\d\d)? \([^)]*\))?) in (\S+) \(sha256 ([0-9a-f]{64})\), "
    r"the recorded distribution file: ([^;]+?)(?:;|\.(?: |$))"
)


def test_vendored_licenses_from_the_recorded_files(online: dict[str, Any]) -> None:
    import re

    document = json.loads(online["out"].read_text())
    pip = next(p["SPDXID"] for p in document["packages"] if p["name"] == "pip")
    vendored = {r["relatedSpdxElement"] for r in document["relationships"] if r["spdxElementId"] == pip}
    located = {name: location for name, (location, _) in sources(online["out"]).items()}
    found = {}
    for package in (p for p in document["packages"] if p["SPDXID"] in vendored):
        comment = package.get("licenseComments", "")
        said = re.findall(RECORDED_FILE_SAYS, comment)
        for _, filename, sha256, _ in said:  # the very file whose location and SHA256 are recorded
            assert located[package["name"]].endswith("/" + filename)
            assert package["checksums"] == [{"algorithm": "SHA256", "checksumValue": sha256}]
        found[package["name"]] = (
            package["licenseConcluded"],
            package.get("copyrightText"),
            [(path, what) for path, _, _, what in said],
        )
    assert found == VENDORED_313


def test_macholib_keeps_cpythons_location_and_gains_the_index_metadata(online: dict[str, Any]) -> None:
    """macholib, which Misc/sbom.spdx.json lists as pkg:pypi/macholib@1.0 with its sdist's URL
    and SHA256 (as the release tooling's SBOM does), is looked up like what pip vendors: the
    location and SHA256 stay CPython's; the index adds the declared license of the sdist's
    PKG-INFO (its classifier) and what its license files say: it carries none. Its source
    files carry no notice either: no copyright, nothing concluded."""
    document = json.loads(online["out"].read_text())
    macholib = next(p for p in document["packages"] if p["name"] == "macholib")
    reference = next(p for p in json.loads(REFERENCE_313.read_text())["packages"] if p["name"] == "macholib")
    sdist = "macholib-1.0.tar.gz (sha256 c76f268f5054024e962f2515a0e522baf85313064f6740d80375afc850787a38)"
    assert macholib["downloadLocation"] == reference["downloadLocation"]
    assert macholib["downloadLocation"].endswith("/macholib-1.0.tar.gz")
    assert macholib["checksums"] == reference["checksums"]
    assert (
        macholib["licenseDeclared"],
        macholib["licenseConcluded"],
        macholib.get("copyrightText"),
        macholib["licenseComments"],
        macholib["originator"],
    ) == (
        "MIT",
        "NOASSERTION",
        None,
        f"Concluded license: no license file in {sdist}, the recorded distribution file.",
        "Person: Ronald Oussoren (ronaldoussoren@mac.com)",
    )
    assert "Copyright text also from the artifact's own files." in package_comment(document, "requests")


def package_comment(document: dict[str, Any], name: str) -> str:
    return str(next(p for p in document["packages"] if p["name"] == name).get("licenseComments", ""))


def test_a_stated_file_that_is_not_the_published_one_gets_nothing_of_its_license(tmp_path: Path) -> None:
    """A Misc/sbom.spdx.json whose pkg:pypi package names, by its download location, a file
    the index publishes but with another SHA256 (or another host's copy of it): sbomgen fetches
    nothing from that location, keeps what the artifact states, and takes neither the index's
    declared license nor what the published file's license files say."""
    from conftest import sbom_data, write_tar

    _, documents = small_release(tmp_path)
    index = json.loads(documents["requests"])
    index["info"].update(version="2.32.3", license_expression="Apache-2.0")  # the release's own license
    documents["requests"] = json.dumps(index).encode()
    ceval = b"int main(void) { return 0; }\n"
    sbom = json.loads(sbom_data({"Python/ceval.c": ceval}, package="requests", version="2.32.3"))
    stated = "https://mirror.example.invalid/requests-2.32.3-py3-none-any.whl"
    sbom["packages"][0].update(
        downloadLocation=stated,
        externalRefs=[
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceLocator": "pkg:pypi/requests@2.32.3",
                "referenceType": "purl",
            }
        ],  # fmt: skip
    )
    sbom["packages"][0].pop("licenseConcluded")
    tree = {"Include/patchlevel.h": b'#define PY_VERSION "3.99.0"\n', "Python/ceval.c": ceval}
    tree["Misc/sbom.spdx.json"] = json.dumps(sbom).encode()
    write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    published = next(
        f["digests"]["sha256"]
        for f in json.loads(documents["requests"])["releases"]["2.32.3"]
        if f["filename"] == "requests-2.32.3-py3-none-any.whl"
    )
    for sha256, declared, concluded in (
        ("0" * 64, None, "NOASSERTION"),
        (published, "Apache-2.0", "Apache-2.0"),
    ):
        sbom["packages"][0]["checksums"] = [{"algorithm": "SHA256", "checksumValue": sha256}]
        tree["Misc/sbom.spdx.json"] = json.dumps(sbom).encode()
        write_tar(tmp_path / "Python-3.99.0.tgz", tree)
        with IndexServer(documents) as server:
            run, document = run_small(tmp_path, server)
        assert run.returncode == 0, run.stderr
        assert document is not None
        requests = package(document, "requests")
        assert (requests["downloadLocation"], requests["checksums"]) == (
            stated,
            [{"algorithm": "SHA256", "checksumValue": sha256}],
        )
        assert (requests.get("licenseDeclared"), requests["licenseConcluded"]) == (declared, concluded)
        warning = (
            f"sbomgen: warning: requests 2.32.3: requests-2.32.3-py3-none-any.whl (SHA256 {sha256}), "
            "which the "
            "artifact's download location and checksum name, is not among the files the index publishes: "
            "its declared license is not taken from the index"
        )
        assert (warning in run.stderr) == (declared is None), run.stderr
        assert not any("example.invalid" in str(request) for request in server.requests)
        (tmp_path / "out.json").unlink()


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="QJW/?#@:% [", min_size=1, max_size=12),
    st.sampled_from(["--index-url", "PIP_INDEX_URL"]),
)
def test_a_password_that_breaks_the_url_is_never_printed(password: str, source: str) -> None:
    """A password written unencoded with '/', '?', '#', '[' or a bad '%' makes a URL that does
    not parse: the one-line refusal shows none of it (its letters are Q, J and W, which no
    message holds otherwise)."""
    from sbomgen.enrich.index import configured_index_url
    from sbomgen.errors import UsageError

    url = f"http://builder:{password}@127.0.0.1:8080/simple"
    try:
        configured_index_url(url) if source == "--index-url" else _from_environment(url)
    except UsageError as exc:
        assert not set(str(exc)) & set("QJW"), str(exc)


def _from_environment(url: str) -> str:
    from sbomgen.enrich.index import configured_index_url

    saved = os.environ.get("PIP_INDEX_URL")
    os.environ["PIP_INDEX_URL"] = url
    try:
        return configured_index_url()
    finally:
        if saved is None:
            del os.environ["PIP_INDEX_URL"]
        else:
            os.environ["PIP_INDEX_URL"] = saved


def test_a_cache_row_stored_with_credentials_before_they_were_taken_out_stays_usable(tmp_path: Path) -> None:
    """sbomgen stored an index URL with its user and password in the cache's rows before it
    took them out: such a row is read, exported and imported without them (it was exit 8 on
    every run, and its export, holding the password, was refused by import)."""
    _, documents = small_release(tmp_path)
    tarball = tmp_path / "Python-3.99.0.tgz"
    with IndexServer(documents) as server:
        run = sbomgen(
            "tarball",
            tarball,
            "-o",
            tmp_path / "a.json",
            "--index-url",
            server.url,
            "--cache-dir",
            tmp_path / "c",
        )
    assert run.returncode == 0, run.stderr
    with contextlib.closing(sqlite3.connect(tmp_path / "c" / "index.sqlite3")) as db, db:
        db.execute("UPDATE release SET index_url = replace(index_url, '://', '://builder:s3cret@')")
    offline = sbomgen(
        "tarball", tarball, "-o", tmp_path / "b.json", "--offline", "--cache-dir", tmp_path / "c"
    )
    exported = sbomgen("cache", "export", "--cache-dir", tmp_path / "c", "-o", tmp_path / "e.json")
    imported = sbomgen(
        "cache", "import", "--allow-unsigned", "--cache-dir", tmp_path / "d", tmp_path / "e.json"
    )
    assert (offline.returncode, exported.returncode, imported.returncode) == (0, 0, 0), imported.stderr
    assert server.url.encode() in (tmp_path / "b.json").read_bytes()
    assert not [p for p in (tmp_path / "b.json", tmp_path / "e.json") if b"s3cret" in p.read_bytes()]
