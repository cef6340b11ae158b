"""Who must have signed a CPython release, when ``verify`` is not told.

Each CPython minor series is signed by its release manager's Sigstore identity; the map
ships as sbomgen/data/cpython-release-identities.json (from CPython's release tooling and
python.org), and ``--identities FILE`` replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..documents.identities import ReleaseIdentities
from ..documents.parse import load_json
from ..documents.source import read_bounded
from ..errors import UsageError

PACKAGED = "sbomgen/data/cpython-release-identities.json"
MAX_IDENTITIES_BYTES = 1 << 20
# The names python.org gives a release's files: Python-3.13.5.tar.xz, Python-3.14.0rc2.tgz,
# python-3.13.5-amd64.exe, python-3.13.5-macos11.pkg, python-3.13.5-embed-arm64.zip, ...
CPYTHON_FILE = re.compile(r"[Pp]ython-([0-9]+\.[0-9]+)\.[0-9]+(?:(?:a|b|rc)[0-9]+)?[-.][A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ReleaseSigner:
    identity: str
    issuer: str
    why: str  # shown beside the identity and issuer checks


def cpython_series(name: str) -> str | None:
    """The minor series ("3.13") of a CPython release file's name, or None."""
    match = CPYTHON_FILE.fullmatch(name)
    return match.group(1) if match else None


def load_identities(path: Path | None) -> tuple[ReleaseIdentities, str]:
    """The map, and how to name where it came from."""
    if path is None:
        data = (resources.files("sbomgen") / "data" / "cpython-release-identities.json").read_bytes()
        source = PACKAGED
    else:
        data = read_bounded(path, "--identities", UsageError, MAX_IDENTITIES_BYTES)
        source = str(path)
    return load_json(ReleaseIdentities, data, f"--identities: {source}", UsageError), source


def release_signer(artifact: Path, identities: Path | None) -> ReleaseSigner:
    series = cpython_series(artifact.name)
    if series is None:
        raise UsageError(
            "say who must have signed: --identity ID (or --identity-regexp '^...$') with --issuer URL "
            f"for a Sigstore bundle, or --key PUB.pem for a key-signed envelope ({artifact.name} is not "
            "named as a CPython release file, whose signer sbomgen knows)"
        )
    table, source = load_identities(identities)
    signer = table.releases.get(series)
    if signer is None:
        raise UsageError(
            f"{artifact.name} is CPython {series}, which {source} does not list: "
            "pass --identity and --issuer, or --identities FILE"
        )
    return ReleaseSigner(signer.identity, signer.issuer, f"CPython {series}'s release manager, per {source}")


def required_signer(artifact: Path, identities: Path | None, given: list[str]) -> ReleaseSigner | None:
    """The CPython release manager to require of ``artifact`` when no signer option was
    ``given`` (their names); None when one was."""
    if given:
        if identities is not None:
            raise UsageError(
                f"--identities says who signs a CPython release; {', '.join(given)} already say who "
                "must have signed: pass one or the other"
            )
        return None
    return release_signer(artifact, identities)
