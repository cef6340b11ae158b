"""sigstore-js (``@sigstore/sign``, ``@sigstore/verify``) as an independent Sigstore client.

The packages are the ones pinned by tests/js/sigstore/package-lock.json, installed with ``npm ci``
from the npm registry into a cache folder keyed by the lockfile's digest, so a second run
installs nothing; they run on the node pinned by tests/js/node (@sigstore/verify 4.1 needs
Node ^22.22.2 || ^24.15). ``tests/js/sigstore/sigstore.js`` is the small driver that signs
and verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from npm_packages import JS, installed, node

DRIVER = JS / "sigstore" / "sigstore.js"


def install() -> Path:
    """The folder holding node_modules for tests/js/sigstore (installed once)."""
    return installed("sigstore")


@dataclass(frozen=True)
class SigstoreJs:
    folder: Path
    node: Path = field(default_factory=node)

    def _run(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        # The driver is run from the repository, its packages from the cache folder.
        env = {**os.environ, "NODE_PATH": str(self.folder / "node_modules")}
        return subprocess.run(
            [self.node, str(DRIVER), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    def sign(self, fulcio: str, rekor: str, token_file: Path, artifact: Path, out: Path) -> None:
        run = self._run("sign", fulcio, rekor, token_file, artifact, out)
        assert run.returncode == 0, run.stderr

    def verify(
        self, trusted_root: Path, artifact: Path, bundle: Path, identity: str, issuer: str
    ) -> dict[str, object]:
        """``{"ok": True}``, or ``{"ok": False, "error": ...}`` with @sigstore/verify's error."""
        run = self._run("verify", trusted_root, artifact, bundle, identity, issuer)
        assert run.returncode in (0, 1), run.stderr
        answer: dict[str, object] = json.loads(run.stdout)
        assert answer["ok"] is (run.returncode == 0)
        return answer
