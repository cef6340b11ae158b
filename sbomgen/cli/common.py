"""What every command shares: output conventions, options, progress, exit codes."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError

EXIT_CODES = {
    0: "success",
    1: "the process reading the artifact was killed (out of memory?)",
    2: "bad command line, or an output that is one of the inputs",
    3: "the input is not a readable archive, or holds an unsafe member",
    4: "the input's own metadata is invalid or contradicts its contents",
    5: "a bug in sbomgen (the document it made failed validation, or an internal error): "
    "please report it; SBOMGEN_DEBUG=1 shows the traceback",
    6: "the output, or a temporary file in TMPDIR, could not be written (only regular files "
    "are replaced: not a device, FIFO, socket, folder or symbolic link)",
    7: "index metadata is missing (--strict), invalid, or contradicts the artifact",
    8: "the metadata cache or a cache export cannot be used",
    9: "verification failed (the line says which check)",
    10: "signing could not be done (identity, trust root, services)",
}
# The codes every command can return: success, a bad command line, a bug in sbomgen.
_ALWAYS = (0, 2, 5, 6)  # 6: every command prints, and standard output may take nothing


def exit_codes(*codes: int, **meaning: str) -> str:
    """The help's epilog: the exit codes this command returns (``meaning``: ``c1="..."``
    to say what a code means for it)."""
    import textwrap

    lines = ["\b", "Exit codes:"]
    for code in sorted({*_ALWAYS, *codes}):
        text = meaning.get(f"c{code}", EXIT_CODES[code])
        lines += textwrap.wrap(text, 74, initial_indent=f"  {code:>2}  ", subsequent_indent=" " * 6)
    return "\n".join(lines)


# How much to say: -1 (-q: warnings and errors), -2 (-qq: errors only), 0, 1 (-v: every step).
_verbosity = 0


def _set_quiet(ctx: click.Context, param: click.Parameter, value: int) -> None:
    global _verbosity
    if value:
        _verbosity = -min(value, 2)


def _set_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    global _verbosity
    if value:
        _verbosity = 1


def verbosity_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """-q and -v, on every command."""
    command = click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_set_verbose,
        envvar="SBOMGEN_VERBOSE",
        show_envvar=True,
        help="Also say each step and how long it took.",
    )(command)
    return click.option(
        "-q",
        "--quiet",
        count=True,
        expose_value=False,
        callback=_set_quiet,
        envvar="SBOMGEN_QUIET",
        show_envvar=True,
        help="Say less: no progress or 'wrote' lines (-qq: no warnings either). Errors are always said.",
    )(command)


def info(message: str) -> None:
    """A line about what was done: hidden by -q."""
    if _verbosity >= 0:
        _line(f"sbomgen: {message}")


def warn(message: str) -> None:
    """A line a user should read: hidden only by -qq."""
    if _verbosity >= -1:
        _line(f"sbomgen: {message}")


def error(message: str) -> None:
    """One line, always said."""
    _line(f"sbomgen: error: {message}")


def _line(text: str) -> None:
    """One line on stderr; what it quotes of an input or names of the user's (an output's
    name) may hold control characters (a terminal's escape sequences), written escaped."""
    from ..documents.text import printable

    click.echo(printable(text), err=True)


class CommandSteps:
    """Progress of long steps. On a terminal: a bar (bytes, or items of a total) or a
    spinner, gone when the step ends; nothing with -q. With -v, on a terminal or piped, a
    plain line as each step ends, with how long it took."""

    def __init__(self) -> None:
        self.terminal = sys.stderr.isatty()

    @contextlib.contextmanager
    def step(
        self, label: str, total: int | None = None, *, forks: bool = False
    ) -> Iterator[Callable[..., None] | None]:
        start = time.monotonic()
        from ..documents.text import printable

        label = printable(label)  # it may name a file
        bar = _Bar(label, total) if self.terminal and _verbosity >= 0 else None
        if bar is not None and not forks:
            bar.update(0)  # a spinner from the start: nothing forks in this step
        try:
            yield bar.update if bar is not None else None
        finally:
            if bar is not None:
                bar.stop()
        took = time.monotonic() - start
        if _verbosity >= 1:
            info(f"{label}: done in {took:.1f} s")


class _Bar:
    """A rich progress bar (or a spinner, with nothing to count), started at its first
    update: a step may fork a reading process before that, and no thread may be alive then."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.progress: Any = None

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        if self.progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            if self.total is None and done == 0:
                count: list[Any] = []  # a spinner, until there is something to count
            elif self.total is None:
                count = [DownloadColumn()]
            elif total is not None:  # bytes of a known size
                count = [BarColumn(), DownloadColumn(), TimeRemainingColumn()]
            else:
                count = [BarColumn(), MofNCompleteColumn()]
            self.progress = Progress(
                SpinnerColumn(), TextColumn(self.label), *count, console=Console(stderr=True), transient=True
            )
            self.task = self.progress.add_task(self.label, total=self.total)
            self.progress.start()
        self.progress.update(self.task, completed=done, total=self.total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def output_targets(output: str | None, names: Sequence[str], default_folder: Path = Path(".")) -> list[str]:
    """Where each of ``names`` (the default file names of a command's outputs) goes.

    With one output, ``-o`` is the file ('-': stdout), or a folder when it ends in '/'.
    Several outputs need a folder: one that exists, or a path ending in '/' to have it
    made; a name that is neither is a bad command line, never a folder made from a file name.
    """
    if output is None:
        return [str(default_folder / name) for name in names]
    is_folder = output.endswith(("/", os.sep)) or (len(names) > 1 and output != "-" and Path(output).is_dir())
    if is_folder:
        return [str(Path(output) / name) for name in names]
    if len(names) == 1:
        return [output]
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    if output == "-":
        raise UsageError(f"-o -: only one output can go to stdout, and this makes {len(names)} ({shown})")
    raise UsageError(
        f"-o {output}: this makes {len(names)} outputs ({shown}), so -o names a folder: "
        "one that exists, or end the path with '/' to have it made"
    )


def makes_folder(output: str | None) -> bool:
    """Whether -o names a folder to be made when missing: only a path ending in '/'. A file's
    missing folder is an error, found before the work."""
    return output is not None and output.endswith(("/", os.sep))


def output_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("-o", "--output", metavar="PATH", help=help_text)


def format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """-f, and --cyclonedx-version beside it (kept in the context: ``cyclonedx_version()``)."""
    command = click.option(
        "--cyclonedx-version",
        type=click.Choice(["1.7", "1.6"]),
        default="1.7",
        show_default=True,
        envvar="SBOMGEN_CYCLONEDX_VERSION",
        show_envvar=True,
        expose_value=False,
        is_eager=True,
        callback=lambda ctx, _, value: ctx.meta.__setitem__("sbomgen.cyclonedx_version", value),
        help="The CycloneDX version of cyclonedx-json and cyclonedx-xml.",
    )(command)
    return click.option(
        "-f",
        "--format",
        "output_format",
        default="spdx-json",
        show_default=True,
        metavar="FORMATS",
        envvar="SBOMGEN_FORMAT",
        show_envvar=True,
        help="Comma-separated: spdx-json, spdx-tv (SPDX 2.3), spdx3-json (SPDX 3.0.1 JSON-LD), "
        "cyclonedx-json, cyclonedx-xml (CycloneDX 1.7 or 1.6). With several, -o names a folder.",
    )(command)


def cyclonedx_version() -> str:
    """The --cyclonedx-version of the command running."""
    return str(click.get_current_context().meta.get("sbomgen.cyclonedx_version", "1.7"))


def formats(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))


class Size(click.ParamType):
    """A byte count: 1000, 64K, 256M, 2G."""

    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
        try:
            number = int(text[:-1] if scale > 1 else text)
        except ValueError:
            self.fail(f"{value!r} is not a size such as 1000, 64K, 256M or 2G", param, ctx)
        if number <= 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return number * scale


class Number(click.FloatRange):
    """A FloatRange that refuses NaN, which passes every comparison of a range (and
    compared with, turns a limit off)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def _options(command: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        command = option(command)
    return command


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    from ..read.archive import Limits

    defaults = Limits()

    def limit(name: str, kind: Any, default: Any, text: str) -> Callable[..., Any]:
        variable = "SBOMGEN_" + name.strip("-").replace("-", "_").upper()
        return click.option(name, type=kind, default=default, envvar=variable, show_envvar=True, help=text)

    return _options(
        command,
        [
            limit(
                "--max-member-size",
                Size(),
                defaults.max_member_size,
                "Largest member, in bytes (default 2G).",
            ),
            limit(
                "--max-total-size",
                Size(),
                defaults.max_total_size,
                "Most bytes unpacked in all (default 16G).",
            ),
            limit(
                "--max-members", click.IntRange(1), defaults.max_members, "Most members (default 1000000)."
            ),
            limit(
                "--max-ratio",
                Number(1),
                defaults.max_ratio,
                "Largest expansion ratio once past 128M unpacked (default 250).",
            ),
            limit(
                "--max-nested-size",
                Size(),
                defaults.max_nested_size,
                "Largest member opened whole, such as a bundled wheel (default 256M). "
                "Nested archives are opened one level deep only.",
            ),
        ],
    )


def limits(options: dict[str, Any]) -> Any:
    from ..read.archive import Limits

    names = ("max_member_size", "max_total_size", "max_members", "max_ratio", "max_nested_size")
    return Limits(**{name: options.pop(name) for name in names})


def index_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return _options(
        command,
        [
            click.option(
                "--index-url",
                metavar="URL",
                envvar="SBOMGEN_INDEX_URL",
                show_envvar=True,
                help="Package index: its Simple API URL as pip takes it (…/simple, or a static "
                "PEP 503 mirror's root), or a JSON API base (…/pypi). Default: PIP_INDEX_URL, else "
                "pip's configuration, else https://pypi.org/simple.",
            ),
            click.option(
                "--offline",
                is_flag=True,
                envvar="SBOMGEN_OFFLINE",
                show_envvar=True,
                help="Never touch the network: index metadata from the cache only.",
            ),
            click.option(
                "--strict",
                is_flag=True,
                envvar="SBOMGEN_STRICT",
                show_envvar=True,
                help="Fail when index metadata for a package is missing, instead of warning.",
            ),
            cache_dir_option,
            click.option(
                "--timeout",
                type=Number(0, 86_400, min_open=True),  # a day: a socket takes no infinity
                default=10.0,
                show_default=True,
                envvar="SBOMGEN_TIMEOUT",
                show_envvar=True,
                help="Seconds per index request.",
            ),
        ],
    )


cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SBOMGEN_CACHE_DIR",
    show_envvar=True,
    help="Folder of the index metadata cache. Default: the user cache folder.",
)


def enrich_options(
    index_url: str | None, offline: bool, strict: bool, cache_dir: Path | None, timeout: float
) -> Any:
    from ..enrich import EnrichOptions
    from ..enrich.index import IndexSettings, configured_index_url

    settings = IndexSettings(url=configured_index_url(index_url), timeout=timeout)
    return EnrichOptions(index=settings, cache_dir=cache_dir, offline=offline, strict=strict)


def cache_files(cache_dir: Path | None) -> list[Path]:
    """The index cache's files: an input of every command that enriches, never an output."""
    from ..enrich import default_cache_dir

    folder = cache_dir or default_cache_dir()
    return [folder / f"index.sqlite3{end}" for end in ("", "-wal", "-shm")]  # as Cache names them


def signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return _options(
        command,
        [
            click.option(
                "--identity-token",
                metavar="JWT",
                envvar="SBOMGEN_IDENTITY_TOKEN",
                show_envvar=True,
                help="OIDC token for keyless signing. Default: from the CI.",
            ),
            click.option(
                "--staging",
                is_flag=True,
                envvar="SBOMGEN_STAGING",
                show_envvar=True,
                help="Use Sigstore's staging instance.",
            ),
            click.option(
                "--trust-config",
                type=click.Path(dir_okay=False, exists=True, path_type=Path),
                envvar="SBOMGEN_TRUST_CONFIG",
                show_envvar=True,
                help="A Sigstore client trust configuration (trusted root + signing config) "
                "of another instance; its signing config chooses the log (Rekor v1 or v2) and "
                "the timestamp authorities.",
            ),
            # The name of the first release; -o is the convention now.
            click.option("-d", "--output-dir", "output_dir", hidden=True, type=click.Path(path_type=Path)),
        ],
    )


def provenance_options(command: Callable[..., Any]) -> Callable[..., Any]:
    return _options(
        command,
        [
            click.option(
                "--sign",
                "signing",
                metavar="sigstore|key:PATH",
                envvar="SBOMGEN_SIGN",
                show_envvar=True,
                help="Sign keylessly with Sigstore (ARTIFACT.intoto.sigstore.json) or with a local "
                "ECDSA P-256 / Ed25519 PEM key (a DSSE envelope, ARTIFACT.intoto.json). "
                "Default: the unsigned statement.",
            ),
            click.option("--builder-id", metavar="URI", help="Default: from the CI environment."),
            click.option("--invocation-id", metavar="ID", help="Default: from the CI environment."),
            click.option(
                "--source-uri", metavar="URI", help="git+https://HOST/REPO@REF. Default: from the CI."
            ),
            click.option(
                "--source-digest",
                metavar="ALG:HEX",
                help="For example gitCommit:1a2b…. Default: from the CI.",
            ),
            click.option(
                "--started-on", metavar="TIME", help="RFC 3339. Default: from the CI, else omitted."
            ),
            click.option(
                "--finished-on", metavar="TIME", help="RFC 3339. Default: SOURCE_DATE_EPOCH, else now."
            ),
        ],
    )


SIGNER_FIELDS = ("identity", "identity_regexp", "issuer", "key", "trusted_root")


def signer_options(trust_root: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Whose signature a bundle must carry and the Sigstore trust root that verifies it:
    verify, cache import and release --check. ``trust_root=False`` leaves out --offline,
    --staging and --trust-config, for a command whose other options declare them."""
    path = click.Path(dir_okay=False, exists=True, path_type=Path)
    signer = [
        once_option(
            "--identity",
            "--cert-identity",
            "--certificate-identity",
            "identity",
            metavar="ID",
            help="The keyless signer's identity (a SAN of the certificate), exactly. Needs --issuer.",
        ),
        once_option(
            "--identity-regexp",
            "--cert-identity-regexp",
            "--certificate-identity-regexp",
            "identity_regexp",
            metavar="REGEXP",
            help="The keyless signer's identity as an anchored regular expression ('^...$'), matched "
            "whole. Needs --issuer.",
        ),
        once_option(
            "--issuer",
            "--cert-oidc-issuer",
            "--certificate-oidc-issuer",
            "issuer",
            metavar="URL",
            help="The identity's OIDC issuer. Needs --identity or --identity-regexp.",
        ),
        once_option(
            "--key",
            type=path,
            help="PEM public key of a key-signed DSSE envelope (not with the Sigstore options).",
        ),
    ]
    root = [
        click.option("--offline", is_flag=True, help="Use the trust root shipped with sigstore; no network."),
        click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance."),
    ]
    config = [
        once_option(
            "--trust-config",
            type=path,
            help="A Sigstore client trust configuration (as given to signing); its trusted root is used.",
        )
    ]
    trusted = [once_option("--trusted-root", type=path, help="A Sigstore trusted root file.")]
    chosen = [*signer, *root, *trusted, *config] if trust_root else [*signer, *trusted]
    return lambda command: _options(command, chosen)


BUILD_FIELDS = ("builder_id", "invocation_id", "source_uri", "source_digest", "started_on", "finished_on")


def signing(options: dict[str, Any]) -> Any:
    from ..provenance.signing import Signing

    return Signing(
        options.pop("signing"),
        options.pop("identity_token"),
        options.pop("staging"),
        options.pop("trust_config"),
    )


def output_of(output: str | None, output_dir: Path | None) -> str | None:
    """-o, or the -d of the first release (a folder)."""
    if output is not None and output_dir is not None:
        raise UsageError("-o and -d both name the output: give -o")
    return f"{output_dir}{os.sep}" if output_dir is not None else output


def once(ctx: click.Context, param: click.Parameter, values: tuple[Any, ...]) -> Any:
    """The value of an option that may be given once. Given again (or through an alias), it
    must say the same: a later value silently winning would undo an earlier check."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        shown = ", ".join(repr(str(value)) for value in distinct)
        raise click.BadParameter(f"given more than once with different values ({shown}); give it once")
    return distinct[0] if distinct else None


def once_option(*names: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option that may be given once (and then the same value again)."""
    return click.option(*names, multiple=True, callback=once, **options)


def make_folder(path: Path) -> None:
    from ..errors import OutputError

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror}") from None


def exit_now(code: int) -> None:
    """Leave with ``code`` once stdout is out: a difference found is not an error line."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Command(click.Command):
    """A command whose options that take one value may be given once: a later value
    silently winning would undo an earlier one (-o a -o b)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        parser = self.make_parser(ctx)
        _, _, order = parser.parse_args(args=list(args))
        seen: set[str | None] = set()
        for param in order:
            if isinstance(param, click.Option) and not (param.multiple or param.count or param.is_flag):
                if param.name in seen:
                    raise click.UsageError(f"{param.opts[0]} is given more than once; give it once", ctx)
                seen.add(param.name)
        return super().parse_args(ctx, args)


def command(**settings: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """A command with the shared conventions: -q/-v, its exit codes in its help."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        return click.command(cls=Command, **settings)(verbosity_options(function))

    return decorate
