"""The command line: argument parsing and printing over the workflows, one module per
group of commands (make.py, trust.py, inspect.py, cache.py; common.py: what they share)."""

from __future__ import annotations

import errno
import gc
import io
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import OutputError, SbomgenError, first_line
from . import cache, inspect, make, trust
from .common import error, exit_codes


@click.group(epilog=exit_codes(*range(1, 11)), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sbomgen")
def cli() -> None:
    """SBOMs and signed provenance for CPython-style release artifacts.

    Every command takes -q/-v; the options CI sets once (index, cache, offline, timeout,
    formats, signing) also come from SBOMGEN_* environment variables, each named in the
    command's --help.
    """


for _command in (
    make.tarball,
    make.wheel,
    make.sdist,
    make.regenerate,
    make.release,
    inspect.check,
    trust.provenance,
    trust.attest,
    trust.sign,
    trust.verify,
    inspect.validate,
    inspect.diff,
    inspect.report,
    cache.cache,
):
    cli.add_command(_command)


def main() -> None:
    # No cyclic garbage collection in this short-lived process: a scan and its outputs make
    # tens of thousands of objects and no cycles; re-enabled after the scan, the collector's
    # first pass walked them all (7-17 ms) and freed nothing.
    gc.disable()
    sys.stdout = _standard_output(sys.stdout)
    if isinstance(sys.stderr, io.TextIOWrapper):  # a value no encoding of the terminal has is escaped
        sys.stderr.reconfigure(errors="backslashreplace")
    try:
        cli.main(standalone_mode=False)
        sys.stdout.flush()
    except _ReaderLeft:
        sys.exit(_ReaderLeft.exit_code)
    except SbomgenError as exc:
        error(str(exc))
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        error("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "sbomgen"
        error(f"{' '.join(exc.format_message().split())} (see '{where} --help')")
        sys.exit(2)
    except click.ClickException as exc:
        error(" ".join(exc.format_message().split()))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SBOMGEN_DEBUG"):
            raise
        error(f"internal error, a bug in sbomgen (please report it): {type(exc).__name__}: {first_line(exc)}")
        sys.exit(5)
    # The output is written and synced. Freeing a large scan's objects one by one would take
    # longer than everything else the interpreter does at exit, so leave without it.
    sys.stderr.flush()
    os._exit(0)


class _Descriptor(io.RawIOBase):
    """File descriptor 1, whose failure (a full disk, a closed descriptor) is the output's
    (exit 6), not a bug in sbomgen; once it failed, what follows is dropped (the flush at
    exit would fail again)."""

    failed = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 1

    def isatty(self) -> bool:
        return os.isatty(1)

    def write(self, data: Any) -> int:
        if self.failed:
            return len(data)
        try:
            return os.write(1, data)
        except OSError as exc:
            self.failed = True
            if exc.errno == errno.EPIPE:
                raise _ReaderLeft() from None
            raise OutputError(f"cannot write to the standard output: {exc.strerror}") from None


class _ReaderLeft(OutputError):
    """Standard output's reader left (``| head``): it knows why, so nothing is said; the
    exit is the output's (6), not 1, which diff, check and validate give a finding."""


def _standard_output(stream: Any) -> io.TextIOWrapper:
    """Standard output through ``_Descriptor``; a value no encoding of the terminal has is
    escaped."""
    return io.TextIOWrapper(
        io.BufferedWriter(_Descriptor()),
        encoding=getattr(stream, "encoding", None) or "utf-8",
        errors="backslashreplace",
        line_buffering=bool(getattr(stream, "line_buffering", False)),
    )
