"""Errors a user can cause. Each maps to one line on stderr and a documented exit code."""

from __future__ import annotations


class SbomgenError(Exception):
    """Base class: the message is the whole story, the exit code says which kind."""

    exit_code = 1


class UsageError(SbomgenError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = 2


class ArchiveError(SbomgenError):
    """The input is not a readable archive, or an archive member is unsafe (exit 3)."""

    exit_code = 3


class ContentError(SbomgenError):
    """The artifact's own metadata is invalid or contradicts its contents (exit 4)."""

    exit_code = 4


class OutputValidationError(SbomgenError):
    """The document sbomgen built does not pass the format's validator (exit 5)."""

    exit_code = 5


class OutputError(SbomgenError):
    """The output could not be written (exit 6)."""

    exit_code = 6


class EnrichmentError(SbomgenError):
    """Metadata from the package index is missing (with --strict) or contradicts the artifact (exit 7)."""

    exit_code = 7


class CacheError(SbomgenError):
    """The metadata cache or a cache export cannot be used (exit 8)."""

    exit_code = 8


class VerificationFailed(SbomgenError):
    """A signature, identity, digest or provenance check did not hold (exit 9)."""

    exit_code = 9


class SigningError(SbomgenError):
    """Signing could not be done: no identity, no trust root, services unreachable (exit 10)."""

    exit_code = 10


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first non-empty line of a library's error message (they often span many)."""
    line = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return line[:limit]
