"""One set of conventions across commands: -o, -f, -q/-v, SBOMGEN_* variables, options
given once, the exit codes each command's help lists; and output that suits where it goes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import refused, sbomgen, small_tarball

WRITERS = [
    "tarball",
    "wheel",
    "sdist",
    "regenerate",
    "release",
    "provenance",
    "attest",
    "sign",
    "report",
    "cache export",
]
SBOM_WRITERS = ["tarball", "wheel", "sdist", "regenerate", "release"]
COMMANDS = [*WRITERS, "verify", "validate", "diff", "check", "cache warm", "cache import"]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return small_tarball(tmp_path)


def _help(command: str) -> str:
    run = sbomgen(*command.split(), "--help")
    assert run.returncode == 0, run.stderr
    return run.stdout.decode()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_quiet_verbose_and_lists_its_exit_codes(command: str) -> None:
    text = _help(command)
    assert "-q, --quiet" in text and "-v, --verbose" in text
    codes = [int(c) for c in re.findall(r"^\s+(\d+)  ", text.split("Exit codes:")[1], re.M)]
    assert codes == sorted(codes) and {0, 2, 5, 6} <= set(codes)  # 6: a standard output that takes nothing
    if command in WRITERS:
        assert "-o, --output" in text and 6 in codes
    if command in SBOM_WRITERS:
        assert "-f, --format" in text and "SBOMGEN_FORMAT" in text
    if command == "verify":
        assert codes == [0, 2, 5, 6, 9]  # reads no archive, writes only --write-sbom
        assert set(re.findall(r"SBOMGEN_\w+", text)) == {
            "SBOMGEN_QUIET",
            "SBOMGEN_DEBUG",
            "SBOMGEN_VERBOSE",
        }  # checks: on its line
    if command in ("validate", "diff", "check") or command == "release":
        assert 1 in codes
    if command in ("release", "attest"):
        assert 9 in codes if command == "release" else 4 in codes


def test_several_outputs_need_a_folder_never_one_made_from_a_file_name(small: Path, tmp_path: Path) -> None:
    refused(
        tmp_path,
        2,
        "tarball",
        small,
        "-f",
        "spdx-json,cyclonedx-json",
        "-o",
        "{out}.json",
        fragments=("makes 2 outputs", "-o names a folder"),
    )
    refused(
        tmp_path,
        2,
        "tarball",
        small,
        "-f",
        "spdx-json,cyclonedx-json",
        "-o",
        "-",
        fragments=("only one output can go to stdout",),
    )
    made = tmp_path / "made"
    run = sbomgen("tarball", small, "-f", "spdx-json,cyclonedx-json", "-o", f"{made}/")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in made.iterdir()) == [
        "Python-3.99.0.tgz.cdx.json",
        "Python-3.99.0.tgz.spdx.json",
    ]
    run = sbomgen("tarball", small, "-o", made, "-qq")  # one output: an existing folder is no file
    assert run.returncode == 6 and "it is a folder" in run.stderr
    run = sbomgen("tarball", small, "-o", f"{made}/", "-f", "spdx-tv", "-qq")  # unless -o says folder/
    assert run.returncode == 0 and run.stderr == "" and (made / "Python-3.99.0.tgz.spdx").exists()


def test_an_option_that_takes_a_value_is_given_once(small: Path, tmp_path: Path) -> None:
    refused(
        tmp_path, 2, "tarball", small, "-o", "{out}", "-o", "{out}", fragments=("-o is given more than once",)
    )
    refused(tmp_path, 2, "diff", small, small, "--json", "--markdown", fragments=("--json and --markdown",))


def test_quiet_says_nothing_and_verbose_says_each_step(small: Path, tmp_path: Path) -> None:
    quiet = sbomgen("tarball", small, "-q", "-o", tmp_path / "q.json")  # warnings only
    assert quiet.returncode == 0 and "wrote" not in quiet.stderr and "no pip wheel" in quiet.stderr
    quieter = sbomgen("tarball", small, "-qq", "-o", tmp_path / "q.json")
    assert quieter.returncode == 0 and quieter.stderr == ""
    plain = sbomgen("tarball", small, "-o", tmp_path / "p.json")
    assert (
        plain.stderr.strip().splitlines()[-1].startswith(f"sbomgen: wrote {tmp_path / 'p.json'}: 1 packages")
    )
    verbose = sbomgen("tarball", small, "-v", "-o", tmp_path / "v.json")
    steps = [line for line in verbose.stderr.splitlines() if " s" in line and ": done in " in line]
    assert [line.split(":")[1].strip() for line in steps] == [
        "Reading Python-3.99.0.tgz",
        "Asking the package index",
        "Writing spdx-json",
    ]
    assert (
        (tmp_path / "q.json").read_bytes()
        == (tmp_path / "p.json").read_bytes()
        == (tmp_path / "v.json").read_bytes()
    )


def test_options_come_from_sbomgen_variables_and_the_command_line_wins(small: Path, tmp_path: Path) -> None:
    env = {"SBOMGEN_FORMAT": "cyclonedx-json", "SBOMGEN_QUIET": "2", "SBOMGEN_CACHE_DIR": str(tmp_path / "c")}
    run = sbomgen("tarball", small, "-o", f"{tmp_path}/", env=env)
    assert run.returncode == 0 and run.stderr == ""
    assert json.loads((tmp_path / "Python-3.99.0.tgz.cdx.json").read_bytes())["bomFormat"] == "CycloneDX"
    into_cache = sbomgen("tarball", small, "-o", tmp_path / "c" / "index.sqlite3", env=env)
    assert into_cache.returncode == 2 and "input" in into_cache.stderr  # the cache SBOMGEN_CACHE_DIR names
    run = sbomgen("tarball", small, "-f", "spdx-json", "-o", f"{tmp_path}/", env=env)
    assert run.returncode == 0 and (tmp_path / "Python-3.99.0.tgz.spdx.json").exists()
    run = sbomgen("tarball", small, "-o", tmp_path / "t.json", env={"SBOMGEN_TIMEOUT": "soon"})
    assert run.returncode == 2 and "soon" in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        ["tarball"],
        ["wheel"],
        ["sdist"],
        ["regenerate", "{missing}", "--tarball"],
        ["provenance"],
        ["sign"],
        ["verify", "--bundle", "{missing}"],
        ["validate"],
        ["diff", "{missing}"],
        ["report"],
        ["check"],
        ["cache", "import"],
        ["cache", "warm"],
        ["release"],
    ],
)
def test_a_missing_input_is_a_bad_command_line_everywhere(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar.gz"
    args = [a.replace("{missing}", str(missing)) for a in command] + [str(missing)]
    if command == ["regenerate", "{missing}", "--tarball"]:
        args = ["regenerate", str(missing), "--tarball", str(missing)]
    refused(tmp_path, 2, *args, fragments=("does not exist",))


def test_release_into_another_folder_lists_what_it_wrote(small: Path, tmp_path: Path) -> None:
    folder = tmp_path / "rel"
    folder.mkdir()
    small.rename(folder / "Python-3.99.0.tgz")
    out = tmp_path / "released"
    run = sbomgen(
        "release",
        folder,
        "-o",
        f"{out}/",
        "-f",
        "spdx-json,cyclonedx-json",
        "--builder-id",
        "https://example.com/builder",
        "-q",
    )
    assert run.returncode == 0, run.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "Python-3.99.0.tgz.cdx.intoto.json",
        "Python-3.99.0.tgz.cdx.json",
        "Python-3.99.0.tgz.intoto.json",
        "Python-3.99.0.tgz.spdx.intoto.json",
        "Python-3.99.0.tgz.spdx.json",
        "release-attestation.intoto.json",
        "release-manifest.json",
    ]
    manifest = json.loads((out / "release-manifest.json").read_bytes())
    assert [f["name"] for f in manifest["files"]] == sorted(["Python-3.99.0.tgz", *written[:6]])
    # The release attestation lists the same files but itself, with both digests.
    attestation = json.loads((out / "release-attestation.intoto.json").read_bytes())
    assert attestation["predicateType"] == "https://in-toto.io/attestation/release/v0.2"
    assert attestation["predicate"] == {"purl": "pkg:generic/python@3.99.0"}
    assert [s["name"] for s in attestation["subject"]] == sorted(["Python-3.99.0.tgz", *written[:5]])
    for subject in attestation["subject"]:
        path = out / subject["name"] if subject["name"] != "Python-3.99.0.tgz" else folder / subject["name"]
        assert subject["digest"] == {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "sha512": hashlib.sha512(path.read_bytes()).hexdigest(),
        }
    statement = json.loads((out / "Python-3.99.0.tgz.intoto.json").read_bytes())
    byproducts = statement["predicate"]["runDetails"]["byproducts"]
    assert [b["name"] for b in byproducts] == ["Python-3.99.0.tgz.spdx.json"]
    refused(
        tmp_path,
        2,
        "release",
        folder,
        "-o",
        "{out}.d",
        "--builder-id",
        "https://example.com/b",
        fragments=("-o names a folder",),
    )


FULL = Path("/dev/full")


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["validate", "{sbom}"], 0),
        (["diff", "{sbom}", "{other}", "--json"], 1),
        (["report", "{sbom}", "-o", "-"], 0),
        (["--version"], 0),
    ],
    ids=["validate", "diff", "report", "version"],
)
def test_a_standard_output_that_takes_nothing_is_exit_6(args: list[str], code: int, tmp_path: Path) -> None:
    """Standard output on a full disk (or closed) is the output failing: exit 6 and one line,
    not exit 5 (a bug) and not a traceback at exit."""
    sbom = tmp_path / "a.spdx.json"
    other = tmp_path / "b.spdx.json"
    package = {"SPDXID": "SPDXRef-a", "name": "a", "downloadLocation": "NONE"}
    document = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "a",
        "documentNamespace": "https://example.org/a",
        "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: t"]}, "packages": [package],
    }  # fmt: skip
    sbom.write_text(json.dumps(document))
    package["versionInfo"] = "2"
    other.write_text(json.dumps(document))
    command = [a.format(sbom=sbom, other=other) for a in args]
    assert sbomgen(*command).returncode == code
    for reason, closed in (("No space left on device", False), ("Bad file descriptor", True)):
        with FULL.open("wb") as full:
            run = subprocess.run(
                [sys.executable, "-m", "sbomgen", *command],
                stdout=full,
                stderr=subprocess.PIPE,
                preexec_fn=(lambda: os.close(1)) if closed else None,
            )
        assert (run.returncode, run.stderr.decode()) == (
            6,
            f"sbomgen: error: cannot write to the standard output: {reason}\n",
        )
    # A pipe whose reader left (| head): exit 6 too (1 is diff's "they differ"), and nothing
    # said, for the reader knows why.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "sbomgen", *command], stdout=writer, stderr=subprocess.PIPE
        )
    finally:
        os.close(writer)
    assert (run.returncode, run.stderr) == (6, b"")


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--max-ratio", "nan", "'nan' is not a number"),  # every comparison false: no ratio limit
        ("--timeout", "nan", "'nan' is not a number"),  # was exit 5, from the socket
        ("--timeout", "inf", "inf is not in the range 0<x<=86400"),  # was exit 5: time_t overflow
        ("--index-url", "http://a\x1b[2J/", "the index URL 'http://a\\x1b[2J/' holds a control character"),
        ("--index-url", "http://[::1/", "'http://[::1/' is not a URL (Invalid IPv6 URL)"),  # was exit 5
        ("--index-url", "http://a:99999/", "'http://a:99999/' is not a URL (Port out of range"),
        ("--index-url", "pypi.org/simple", "'pypi.org/simple' is not an http(s) URL with a host"),  # was 5
        ("--index-url", "ftp://a/simple", "'ftp://a/simple' is not an http(s) URL with a host"),  # was 0
        ("--index-url", "http:///simple", "'http:///simple' is not an http(s) URL with a host"),
    ],
)
def test_a_number_or_url_no_request_can_use_is_a_bad_command_line(
    small: Path, tmp_path: Path, option: str, value: str, fragment: str
) -> None:
    refused(tmp_path, 2, "tarball", small, "-o", "{out}", option, value, fragments=(fragment,))


def test_a_file_name_with_a_terminal_escape_is_printed_escaped(tmp_path: Path) -> None:
    """Names of the user's files, printed back: an OSC sequence (it sets a terminal's title;
    click strips only CSI sequences from piped output) was written raw by "wrote ..." lines
    and validate's verdict."""
    package = {"SPDXID": "SPDXRef-a", "name": "a", "downloadLocation": "NONE"}
    document = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "a",
        "documentNamespace": "https://example.org/a", "documentDescribes": ["SPDXRef-a"],
        "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: t"]}, "packages": [package],
    }  # fmt: skip
    sbom = tmp_path / "a\x1b]0;t\x07.spdx.json"
    sbom.write_text(json.dumps(document))

    def shown(path: Path) -> str:
        return str(path).replace("\x1b", "\\u001b").replace("\x07", "\\u0007")

    run = sbomgen("validate", sbom)
    assert (run.returncode, run.stdout.decode()) == (0, f"{shown(sbom)}: valid SPDX 2.3\n")
    report = tmp_path / "r\x1b]0;t\x07.html"
    run = sbomgen("report", sbom, "-o", report)
    assert (run.returncode, run.stderr) == (0, f"sbomgen: wrote {shown(report)}\n")
