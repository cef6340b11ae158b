"""Shared fixtures: the real inputs in ../shared/data and builders of small real archives."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from index_server import IndexServer, recorded_documents

if TYPE_CHECKING:
    from sigstore_instance import SigstoreInstance

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CPYTHON_313 = DATA / "cpython" / "Python-3.13.5.tar.xz"
CPYTHON_311 = DATA / "cpython" / "Python-3.11.2.tgz"
REFERENCE_313 = DATA / "cpython" / "Python-3.13.5.tar.xz.release-tools.spdx.json"
# What the rule of sbomgen/scan/purls.py gives CPython 3.13.5's bundled C libraries.
C_LIBRARY_PURLS_313 = {
    "expat": "pkg:github/libexpat/libexpat@R_2_6_3",
    "hacl-star": "pkg:github/hacl-star/hacl-star@bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0",
    "libb2": "pkg:github/blake2/libb2@v0.98.1",
    "mpdecimal": "pkg:generic/mpdecimal@2.5.1?checksum=sha256:"
    "9f9cd4c041f99b5c49ffb7b59d9f12d95b683d88585608aa56a6307667b2b21f"
    "&download_url=https://www.bytereef.org/software/mpdecimal/releases/mpdecimal-2.5.1.tar.gz",
}
PIP_WHEELS = DATA / "pip"
# The real Sigstore bundles and what they were signed as (see ../shared/data/README.md).
SIGSTORE = DATA / "sigstore"
GITHUB = "https://token.actions.githubusercontent.com"
RFC8785 = SIGSTORE / "rfc8785-0.1.2-py3-none-any.whl"
RFC8785_ID = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
SIGSTORE_SDIST = SIGSTORE / "sigstore-3.6.1.tar.gz"
SIGSTORE_ID = "https://github.com/sigstore/sigstore-python/.github/workflows/release.yml@refs/tags/v3.6.1"
PYPI_PUBLISH = "https://docs.pypi.org/attestations/publish/v1"
# The builder id the provenance tests sign as.
BUILDER = "https://github.com/python/release-tools/.github/workflows/release.yml@refs/heads/main"

# What pip 25.1.1 (bundled with CPython 3.13.5) vendors, by canonical name.
PIP_25_1_1_VENDORED = sorted(
    [
        "cachecontrol",
        "certifi",
        "dependency-groups",
        "distlib",
        "distro",
        "idna",
        "msgpack",
        "packaging",
        "platformdirs",
        "pygments",
        "pyproject-hooks",
        "requests",
        "resolvelib",
        "rich",
        "setuptools",
        "tomli",
        "tomli-w",
        "truststore",
        "typing-extensions",
        "urllib3",
    ]
)

# What pip 22.3.1 (bundled with CPython 3.11.2) vendors, in vendor.txt order.
PIP_22_3_1_VENDORED = [
    ("cachecontrol", "0.12.11"),
    ("colorama", "0.4.5"),
    ("distlib", "0.3.6"),
    ("distro", "1.7.0"),
    ("msgpack", "1.0.4"),
    ("packaging", "21.3"),
    ("pep517", "0.13.0"),
    ("platformdirs", "2.5.2"),
    ("pyparsing", "3.0.9"),
    ("requests", "2.28.1"),
    ("certifi", "2022.09.24"),
    ("chardet", "5.0.0"),
    ("idna", "3.4"),
    ("urllib3", "1.26.12"),
    ("rich", "12.5.1"),
    ("pygments", "2.13.0"),
    ("typing-extensions", "4.4.0"),
    ("resolvelib", "0.8.1"),
    ("setuptools", "44.0.0"),
    ("six", "1.16.0"),
    ("tenacity", "8.1.0"),
    ("tomli", "2.0.1"),
    ("webencodings", "0.5.1"),
]


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: str


def sbomgen(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    cpu_seconds: int | None = None,
    timeout: float = 300,
) -> Run:
    """Run the real command line in a subprocess. ``cpu_seconds`` bounds the CPU time of each
    of its processes (RLIMIT_CPU: a busy machine does not change it, unlike wall time); a
    process over it is killed, and the run's exit status says so. ``timeout`` only catches a
    hang."""

    def limit() -> None:
        if cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))

    result = subprocess.run(
        [sys.executable, "-m", "sbomgen", *map(str, args)],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        preexec_fn=limit if cpu_seconds is not None else None,
    )
    return Run(result.returncode, result.stdout, result.stderr.decode())


def python_within(program: str, stdin: bytes, cpu_seconds: int) -> subprocess.CompletedProcess[bytes]:
    """``python -c PROGRAM`` of this checkout, fed ``stdin``, its CPU time bounded (RLIMIT_CPU):
    for work that must stay linear on hostile input, whatever the machine's load."""
    return subprocess.run(
        [sys.executable, "-c", program],
        input=stdin,
        capture_output=True,
        cwd=Path(__file__).parents[1],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds)),
    )


def peak_rss(arguments: list[str], env: dict[str, str] | None = None) -> tuple[int, int]:
    """Exit status and peak RSS (KiB) of ``sbomgen ARGUMENTS``, measured by a small launcher:
    a child's peak RSS starts at its parent's, and a test's parent is the whole test session
    (grown by the in-process property tests before it)."""
    launcher = (
        "import os, subprocess, sys\n"
        "process = subprocess.Popen(sys.argv[1:], stderr=subprocess.DEVNULL)\n"
        "_, status, usage = os.wait4(process.pid, 0)\n"
        "print(status, usage.ru_maxrss)\n"
    )
    command = [sys.executable, "-m", "sbomgen", *arguments]
    result = subprocess.run(
        [sys.executable, "-c", launcher, *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    status, peak = result.stdout.split()
    return int(status), int(peak)


def refused(run_dir: Path, exit_code: int, *args: str | Path, fragments: tuple[str, ...]) -> str:
    """Run sbomgen with ``args`` (``{out}`` is a path in an empty folder); the one error line."""
    out = run_dir / "out"
    out.mkdir(exist_ok=True)
    run = sbomgen(*(str(a).replace("{out}", str(out / "result")) for a in args))
    assert run.returncode == exit_code, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("sbomgen: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    assert list(out.iterdir()) == []
    assert run.stdout == b""
    return lines[0]


def one_line_failure(run: Run, check: str) -> str:
    """A verification that failed (exit 9) with one line naming ``check``; the line."""
    assert run.returncode == 9, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"sbomgen: error: {check}: "), lines[0]
    return lines[0]


def changed_copy(source: Path, tmp_path: Path) -> Path:
    """A copy of ``source`` in ``tmp_path`` with one byte changed."""
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    at = min(1000, source.stat().st_size // 2)  # past any header; inside a small file too
    with copy.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 1]))
    return copy


def write_keys(folder: Path, kind: str = "ecdsa", name: str | None = None) -> tuple[Path, Path]:
    """A new ECDSA P-256 or Ed25519 key pair as PEM files NAME.pem (private) and NAME.pub."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ecdsa" else ed25519.Ed25519PrivateKey.generate()
    private, public = folder / f"{name or kind}.pem", folder / f"{name or kind}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def chromium(profile: Path) -> Any:
    """A headless Chromium driven by selenium, logging the browser's console, with no network
    of its own (Debian's chromium and chromium-driver, installed by .ci/run)."""
    browser = shutil.which(os.environ.get("SBOMGEN_BROWSER", "chromium"))
    driver_path = shutil.which("chromedriver")
    assert browser and driver_path, "Debian's chromium and chromium-driver are installed by .ci/run"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1800",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def make_wheel(
    name: str = "pip", version: str = "99.0", vendor_txt: str | None = "requests==2.0.0\n"
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "")
        wheel.writestr(
            f"{name}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
        if vendor_txt is not None:
            wheel.writestr(f"{name}/_vendor/vendor.txt", vendor_txt)
    return buffer.getvalue()


def cpython_tree(version: str = "3.99.0", **extra: bytes) -> dict[str, bytes]:
    """A small CPython-shaped tree: patchlevel.h, a source file, a bundled pip wheel."""
    tree = {
        "Include/patchlevel.h": f'#define PY_VERSION              "{version}"\n'.encode(),
        "Python/ceval.c": b"int main(void) { return 0; }\n",
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl": make_wheel(),
    }
    tree.update({k.replace("__", "/"): v for k, v in extra.items()})
    return tree


def write_tar(path: Path, tree: dict[str, bytes], top: str = "Python-3.99.0", mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        for name, content in sorted(tree.items()):
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(content)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(content))
    return path


def small_tarball(folder: Path) -> Path:
    """FOLDER (made if missing) holding one small CPython-shaped source tarball with no bundled
    wheel: nothing to ask the index."""
    folder.mkdir(exist_ok=True)
    tree = cpython_tree()
    del tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"]
    return write_tar(folder / "Python-3.99.0.tgz", tree)


def small_release(
    folder: Path, wheel_url: str = "../../files/pip-99.0-py3-none-any.whl"
) -> tuple[Path, dict[str, bytes]]:
    """A small CPython-shaped tarball in FOLDER whose bundled pip 99.0 vendors requests, and the
    JSON API documents of both (pip's publishing the wheel at ``wheel_url``) for an IndexServer."""
    import hashlib

    wheel = make_wheel(vendor_txt="requests==2.32.3\n")
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = wheel
    file = {"filename": "pip-99.0-py3-none-any.whl", "url": wheel_url, "packagetype": "bdist_wheel",
            "digests": {"sha256": hashlib.sha256(wheel).hexdigest()}}  # fmt: skip
    pip = {"info": {"name": "pip", "version": "99.0", "license_expression": "MIT", "classifiers": []},
           "releases": {"99.0": [file]}}  # fmt: skip
    documents = {"pip": json.dumps(pip).encode(), "requests": recorded_documents()["requests"]}
    return write_tar(folder / "Python-3.99.0.tgz", tree), documents


def online_sbom(base: Path) -> dict[str, Any]:
    """Python-3.13.5.tar.xz's SPDX 2.3 SBOM made against a loopback index with a fresh cache in
    BASE/cache: the SBOM ("out"), the cache, the index's URL and the requests it answered (it
    has stopped since), and what sbomgen said ("stderr")."""
    with IndexServer() as server:
        out = base / "online.spdx.json"
        run = sbomgen(
            "tarball", CPYTHON_313, "-o", out, "--index-url", server.url, "--cache-dir", base / "cache"
        )
        assert run.returncode == 0, run.stderr
    return {
        "out": out,
        "cache": base / "cache",
        "url": server.url,
        "requests": server.requests,
        "stderr": run.stderr,
    }


def sbom_data(files: dict[str, bytes], package: str = "expat", version: str = "2.7.1") -> bytes:
    """A Misc/sbom.spdx.json listing ``files`` (with real checksums) under one package."""
    import hashlib

    spdx_files = []
    relationships = []
    for name, content in files.items():
        file_id = "SPDXRef-FILE-" + name.replace("/", "-")
        spdx_files.append(
            {
                "SPDXID": file_id,
                "fileName": name,
                "checksums": [
                    {"algorithm": "SHA1", "checksumValue": hashlib.sha1(content).hexdigest()},
                    {"algorithm": "SHA256", "checksumValue": hashlib.sha256(content).hexdigest()},
                ],
            }
        )
        relationships.append(
            {
                "spdxElementId": f"SPDXRef-PACKAGE-{package}",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": file_id,
            }
        )
    document = {
        "SPDXID": "SPDXRef-DOCUMENT",
        "spdxVersion": "SPDX-2.3",
        "packages": [
            {
                "SPDXID": f"SPDXRef-PACKAGE-{package}",
                "name": package,
                "versionInfo": version,
                "downloadLocation": f"https://example.invalid/{package}-{version}.tar.gz",
                "checksums": [{"algorithm": "SHA256", "checksumValue": "0" * 64}],
                "externalRefs": [
                    {
                        "referenceCategory": "SECURITY",
                        "referenceLocator": f"cpe:2.3:a:{package}:{package}:{version}:*:*:*:*:*:*:*",
                        "referenceType": "cpe23Type",
                    }
                ],
                "licenseConcluded": "MIT",
                "originator": "Organization: Example developers",
                "primaryPackagePurpose": "SOURCE",
            }
        ],
        "files": spdx_files,
        "relationships": relationships,
    }
    return json.dumps(document).encode()


@pytest.fixture(scope="session", autouse=True)
def isolated_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Every sbomgen a test runs talks to loopback services and a private cache, never further."""
    names = ("PIP_INDEX_URL", "PIP_CONFIG_FILE", "XDG_CACHE_HOME", "NO_PROXY", "no_proxy")
    saved = {k: os.environ.get(k) for k in names}
    with IndexServer() as server:
        # Loopback services are reached directly even where a proxy is configured.
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        os.environ["PIP_INDEX_URL"] = server.url
        os.environ["PIP_CONFIG_FILE"] = os.devnull
        os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
        yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not CPYTHON_313.exists():
        pytest.fail(f"the shared real inputs are missing: {DATA}")
    return DATA


@pytest.fixture(scope="module")
def instance() -> Iterator[SigstoreInstance]:
    """A loopback Sigstore instance for a module's tests, its log holding other signers'
    entries first, so that inclusion proofs have hashes to check."""
    from sigstore_instance import SigstoreInstance

    with SigstoreInstance() as running:
        running.seed_log(5)
        yield running


@pytest.fixture(scope="module")
def trust_config(instance: SigstoreInstance, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance's client trust configuration (trusted root and signing config), as a file."""
    path = tmp_path_factory.mktemp("trust") / "trust-config.json"
    path.write_text(instance.trust_config())
    return path
