"""Is sbomgen linear in packages, pins, components and relationships?

Builds each hostile shape at a base size and at 10 times it, runs the sbomgen command
that reads it, and prints wall time and peak memory of each run with the 10x/1x ratios
(the target: time at most 12x, memory flat). Shapes:

- ``pins``: a CPython-style tarball whose bundled pip vendors N packages (vendor.txt
  pins), the offline cache holding index metadata for every other one;
- ``misc-sbom``: a tarball whose ``Misc/sbom.spdx.json`` lists N packages, each with
  one file of the tarball; ``tag-value``: its SBOM as SPDX tag-value;
- ``pep770``: a wheel carrying PEP 770 SBOMs (``.dist-info/sboms/``): a CycloneDX BOM
  and an SPDX document of N components each;
- ``diff``, ``report``, ``check``, ``validate-cdx``: CycloneDX BOMs of N components (two releases, a
  tenth of them changed; each recording its index files, the cache holding them);
- ``validate-spdx``, ``diff-spdx``, ``regenerate``: the SPDX SBOM of the ``misc-sbom``
  tarball (N packages, N files, 2N relationships) validated, compared with itself and
  used as the upstream of ``regenerate``; ``validate-tv``: its tag-value form validated.

Peak memory is the PSS of the command's processes summed (bench/measure.py). sbomgen
runs from compiled bytecode, as an installed tool does. Not a test: it asserts nothing.

    python bench/bench_packages.py [--base N] [--scale K] [SHAPE ...]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Callable
from pathlib import Path

from measure import measure

ROOT = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/pypi"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)
PATCHLEVEL = b'#define PY_VERSION "3.99.0"\n'
MTIME = 1_700_000_000


def run(command: list[str], accept: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall time and peak memory (KiB, PSS of the process tree summed) of ``python -m sbomgen COMMAND``."""
    result = measure([sys.executable, "-m", "sbomgen", *command], env=ENV)
    if result.returncode not in accept:
        sys.exit(f"sbomgen {' '.join(command)} exited {result.returncode}: {result.stderr[-500:]}")
    return result.wall, result.peak_pss >> 10


# Inputs -------------------------------------------------------------------------------------


def write_tar(path: Path, tree: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for name, content in sorted(tree.items()):
            info = tarfile.TarInfo(f"Python-3.99.0/{name}")
            info.size, info.mtime = len(content), MTIME
            archive.addfile(info, io.BytesIO(content))
    return path


def pip_wheel(pins: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("pip/__init__.py", "")
        wheel.writestr("pip-99.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pip\nVersion: 99.0\n")
        # Short names: 100,000 pins stay under vendor.txt's 1 MiB bound.
        wheel.writestr("pip/_vendor/vendor.txt", "".join(f"v{i:x}==1\n" for i in range(pins)))
    return buffer.getvalue()


def fill_cache(directory: Path, releases: list[tuple[str, str]]) -> None:
    """Index metadata for ``releases`` in the cache at ``directory``, as the index gives it."""
    sys.path.insert(0, str(ROOT))
    from sbomgen.documents.index import ReleaseData, ReleaseFile
    from sbomgen.enrich.cache import Cache, Entry

    cache = Cache(directory)
    entries = []
    for name, version in releases:
        filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        url = f"https://files.pythonhosted.org/packages/{name}/{filename}"
        digest = hashlib.sha256(filename.encode()).hexdigest()
        wheel = ReleaseFile(filename=filename, url=url, sha256=digest, packagetype="bdist_wheel")
        data = ReleaseData(files=[wheel])
        entries.append(Entry(INDEX, name, version, "", data, "2025-01-01T00:00:00Z"))
    cache.put(entries)
    cache.close()


def spdx_fragment(count: int) -> tuple[bytes, dict[str, bytes]]:
    """A Misc/sbom.spdx.json of ``count`` packages, each containing one file, and the files."""
    files = {f"Modules/lib{i}/lib{i}.c": f"int f{i};\n".encode() for i in range(count)}
    packages, listed, relationships = [], [], []
    for i, (name, content) in enumerate(files.items()):
        packages.append(
            {
                "SPDXID": f"SPDXRef-PACKAGE-lib{i}",
                "name": f"lib{i}",
                "versionInfo": "1.0",
                "downloadLocation": f"https://example.org/lib{i}-1.0.tar.gz",
                "checksums": [
                    {"algorithm": "SHA256", "checksumValue": hashlib.sha256(name.encode()).hexdigest()}
                ],
                "licenseConcluded": "MIT",
                "primaryPackagePurpose": "SOURCE",
            }
        )
        listed.append(
            {
                "SPDXID": f"SPDXRef-FILE-{i}",
                "fileName": name,
                "checksums": [
                    {"algorithm": "SHA1", "checksumValue": hashlib.sha1(content).hexdigest()},
                    {"algorithm": "SHA256", "checksumValue": hashlib.sha256(content).hexdigest()},
                ],
            }
        )
        relationships.append(
            {
                "spdxElementId": f"SPDXRef-PACKAGE-lib{i}",
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": f"SPDXRef-FILE-{i}",
            }
        )
    document = {"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3", "packages": packages}
    document.update(files=listed, relationships=relationships)
    return json.dumps(document).encode(), files


def cyclonedx(count: int, release: int, records: bool = False) -> bytes:
    """A BOM of ``count`` components: the root depends on every tenth, each of which
    depends on the nine after it; ``release`` 1 changes every tenth version."""
    components = []
    for i in range(count):
        version = f"1.{i}" if release == 0 or i % 10 else f"2.{i}"
        component = {
            "type": "library",
            "bom-ref": f"c{i}",
            "name": f"component-{i}",
            "version": version,
            "purl": f"pkg:pypi/component-{i}@{version}",
            "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(f"{i}{version}".encode()).hexdigest()}],
            "licenses": [{"license": {"id": "MIT"}}],
        }
        if records:
            filename = f"component_{i}-{version}-py3-none-any.whl"
            files = [{"filename": filename, "sha256": hashlib.sha256(filename.encode()).hexdigest()}]
            component["properties"] = [{"name": "sbomgen:index-release-files", "value": json.dumps(files)}]
        components.append(component)
    dependencies = [{"ref": "root", "dependsOn": [f"c{i}" for i in range(0, count, 10)]}]
    dependencies += [
        {"ref": f"c{i}", "dependsOn": [f"c{j}" for j in range(i + 1, min(i + 10, count))]}
        for i in range(0, count, 10)
    ]
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "root", "name": "root", "version": "1"}},
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(bom, indent=1).encode()


def pep770_wheel(count: int) -> bytes:
    """A wheel carrying a CycloneDX BOM and an SPDX document of ``count`` components each."""
    spdx_packages = [{"SPDXID": "SPDXRef-PACKAGE-demo", "name": "demo", "versionInfo": "1.0"}]
    spdx_packages += [
        {"SPDXID": f"SPDXRef-PACKAGE-s{i}", "name": f"s{i}", "versionInfo": "1.0",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                           "referenceLocator": f"pkg:generic/s{i}@1.0"}]}
        for i in range(count)
    ]  # fmt: skip
    spdx = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "documentDescribes": ["SPDXRef-PACKAGE-demo"],
        "packages": spdx_packages,
        "relationships": [
            {"spdxElementId": "SPDXRef-PACKAGE-demo", "relationshipType": "DEPENDS_ON",
             "relatedSpdxElement": f"SPDXRef-PACKAGE-s{i}"}
            for i in range(count)
        ],
    }  # fmt: skip
    members = {
        "demo/__init__.py": b"",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "demo-1.0.dist-info/sboms/bom.cdx.json": cyclonedx(count, 0),
        "demo-1.0.dist-info/sboms/sbom.spdx.json": json.dumps(spdx).encode(),
    }
    record = "".join(
        f"{name},sha256={urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for name, data in members.items()
    )
    members["demo-1.0.dist-info/RECORD"] = (record + "demo-1.0.dist-info/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return buffer.getvalue()


# Shapes: each builds its inputs in a folder and returns the sbomgen command to time ---------


def pins(folder: Path, count: int) -> list[str]:
    tarball = write_tar(
        folder / "Python-3.99.0.tgz",
        {
            "Include/patchlevel.h": PATCHLEVEL,
            "Python/ceval.c": b"int x;\n",
            "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl": pip_wheel(count),
        },
    )
    fill_cache(folder / "cache", [(f"v{i:x}", "1") for i in range(0, count, 2)])
    return ["tarball", str(tarball), "--offline", "--index-url", INDEX, "--cache-dir", str(folder / "cache"),
            "-o", str(folder / "out.spdx.json")]  # fmt: skip


def misc_sbom(folder: Path, count: int) -> list[str]:
    fragment, files = spdx_fragment(count)
    tree = {"Include/patchlevel.h": PATCHLEVEL, "Misc/sbom.spdx.json": fragment, **files}
    tarball = write_tar(folder / "Python-3.99.0.tgz", tree)
    return ["tarball", str(tarball), "--offline", "--cache-dir", str(folder / "cache"),
            "-o", str(folder / "out.spdx.json")]  # fmt: skip


def tag_value(folder: Path, count: int) -> list[str]:
    return [*misc_sbom(folder, count)[:-2], "-f", "spdx-tv", "-o", str(folder / "out.spdx")]


def misc_sbom_output(folder: Path, count: int) -> Path:
    """The SPDX SBOM of the ``misc-sbom`` tarball, made once (not timed)."""
    command = misc_sbom(folder, count)
    subprocess.run([sys.executable, "-m", "sbomgen", *command], env=ENV, check=True, capture_output=True)
    return folder / "out.spdx.json"


def pep770(folder: Path, count: int) -> list[str]:
    wheel = folder / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(pep770_wheel(count))
    return ["wheel", str(wheel), "--offline", "--cache-dir", str(folder / "cache"),
            "-o", str(folder / "out.spdx.json")]  # fmt: skip


def diff(folder: Path, count: int) -> list[str]:
    (folder / "old.cdx.json").write_bytes(cyclonedx(count, 0))
    (folder / "new.cdx.json").write_bytes(cyclonedx(count, 1))
    return ["diff", "--json", "--files", str(folder / "old.cdx.json"), str(folder / "new.cdx.json")]


def report(folder: Path, count: int) -> list[str]:
    (folder / "new.cdx.json").write_bytes(cyclonedx(count, 1))
    return ["report", str(folder / "new.cdx.json"), "-o", str(folder / "report.html")]


def check(folder: Path, count: int) -> list[str]:
    (folder / "bom.cdx.json").write_bytes(cyclonedx(count, 0, records=True))
    fill_cache(folder / "cache", [(f"component-{i}", f"1.{i}") for i in range(count)])
    return ["check", "--offline", "--index-url", INDEX, "--cache-dir", str(folder / "cache"),
            str(folder / "bom.cdx.json")]  # fmt: skip


def validate_cyclonedx(folder: Path, count: int) -> list[str]:
    (folder / "bom.cdx.json").write_bytes(cyclonedx(count, 0, records=True))
    return ["validate", str(folder / "bom.cdx.json")]


def validate_spdx(folder: Path, count: int) -> list[str]:
    return ["validate", str(misc_sbom_output(folder, count))]


def validate_tag_value(folder: Path, count: int) -> list[str]:
    command = tag_value(folder, count)
    subprocess.run([sys.executable, "-m", "sbomgen", *command], env=ENV, check=True, capture_output=True)
    return ["validate", str(folder / "out.spdx")]


def diff_spdx(folder: Path, count: int) -> list[str]:
    sbom = misc_sbom_output(folder, count)
    return ["diff", "--json", "--files", str(sbom), str(sbom)]


def regenerate(folder: Path, count: int) -> list[str]:
    sbom = misc_sbom_output(folder, count)
    return ["regenerate", str(sbom), "--tarball", str(folder / "Python-3.99.0.tgz"),
            "-o", str(folder / "regenerated.spdx.json")]  # fmt: skip


SHAPES: dict[str, tuple[Callable[[Path, int], list[str]], tuple[int, ...]]] = {
    "pins": (pins, (0,)),
    "misc-sbom": (misc_sbom, (0,)),
    "tag-value": (tag_value, (0,)),
    "pep770": (pep770, (0,)),
    "diff": (diff, (1,)),  # exit 1: the BOMs differ
    "report": (report, (0,)),
    "check": (check, (0,)),
    "validate-cdx": (validate_cyclonedx, (0,)),
    "validate-spdx": (validate_spdx, (0,)),
    "validate-tv": (validate_tag_value, (0,)),
    "diff-spdx": (diff_spdx, (0,)),
    "regenerate": (regenerate, (0,)),
}


def build(name: str, folder: Path, size: int) -> list[str]:
    """The shape's inputs, built by a process of its own: Linux carries a process's peak RSS
    across fork and exec, so sbomgen's would otherwise start at this one's."""
    script = [sys.executable, __file__, "--build", name, str(folder), str(size)]
    return json.loads(subprocess.run(script, check=True, capture_output=True, env=ENV).stdout)


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        name, folder, size = sys.argv[2:5]
        print(json.dumps(SHAPES[name][0](Path(folder), int(size))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="*", metavar="SHAPE", help=f"some of: {', '.join(SHAPES)} (all)")
    parser.add_argument("--base", type=int, default=1000, help="the 1x size (default 1000)")
    parser.add_argument("--scale", type=int, default=10, help="the larger size, in times the base (10)")
    args = parser.parse_args()
    unknown = set(args.shapes) - SHAPES.keys()
    if unknown:
        parser.error(f"unknown shape(s): {', '.join(sorted(unknown))}")
    sizes = (args.base, args.base * args.scale)
    now = f"{datetime.datetime.now():%Y-%m-%d %H:%M}"
    print(f"{now}  {os.cpu_count()} cores  python {sys.version.split()[0]}")
    print(f"{'shape':<14}{'size':>9}{'time s':>9}{'peak MB':>9}{'size':>9}{'time s':>9}{'peak MB':>9}"
          f"{'time x':>8}{'mem x':>7}")  # fmt: skip
    for name in args.shapes or SHAPES:
        accept = SHAPES[name][1]
        results = []
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="bench-packages-") as scratch:
                command = build(name, Path(scratch), size)
                if size == sizes[0]:
                    run(command, accept)  # warm: bytecode, page cache
                results.append(run(command, accept))
        (t1, m1), (t2, m2) = results
        print(
            f"{name:<14}{sizes[0]:>9,}{t1:>9.2f}{m1 / 1024:>9.1f}{sizes[1]:>9,}{t2:>9.2f}{m2 / 1024:>9.1f}"
            f"{t2 / t1:>7.1f}x{m2 / m1:>6.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
