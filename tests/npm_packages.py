"""JavaScript packages the tests run (sigstore-js, the CycloneDX JavaScript library), each
pinned by a folder of tests/js/ (package.json + package-lock.json), installed with
``npm ci`` from the npm registry into a cache folder named by the digest of those two files,
so a second run installs nothing (``SBOMGEN_NPM_CACHE``, else the user cache folder)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import platformdirs

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node") or "/usr/bin/node"


def installed(name: str, scripts: bool = False) -> Path:
    """The folder holding node_modules for tests/js/NAME; ``scripts``: run the packages'
    install scripts (native modules such as libxmljs2 build in them)."""
    source = JS / name
    pinned = [(source / f).read_bytes() for f in ("package.json", "package-lock.json")]
    key = hashlib.sha256(b"\0".join(pinned)).hexdigest()[:16]
    root = Path(os.environ.get("SBOMGEN_NPM_CACHE") or platformdirs.user_cache_dir("sbomgen-tests"))
    folder = root / f"{name}-{key}"
    if (folder / "node_modules" / ".installed").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for file in ("package.json", "package-lock.json"):
        shutil.copyfile(source / file, folder / file)
    command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    run = subprocess.run(
        command if scripts else [*command, "--ignore-scripts"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"npm ci in {folder} failed: {run.stderr[-2000:]}"
    (folder / "node_modules" / ".installed").write_text(key)
    return folder
