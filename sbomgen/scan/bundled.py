"""The scanner of bundled wheels (``Lib/ensurepip/_bundled/*.whl``).

Light to import, so that the archive's reading starts early; the wheels are opened by
``.wheels`` once the pass is over.
"""

from __future__ import annotations

from pathlib import Path

from .interface import ScanContext, Scanner

BUNDLED_DIR = "Lib/ensurepip/_bundled/"


class BundledWheelScanner(Scanner):
    def __init__(self, cache_dir: Path | None = None) -> None:
        self.wheels: dict[str, bytes] = {}
        self.cache_dir = cache_dir

    def wants(self, path: str) -> bool:
        return path.startswith(BUNDLED_DIR) and path.endswith(".whl") and "/" not in path[len(BUNDLED_DIR) :]

    def visit(self, path: str, content: bytes) -> None:
        self.wheels[path] = content

    def finish(self, context: ScanContext) -> None:
        from packaging.utils import canonicalize_name

        from ..errors import ContentError
        from .license_files import concluded_or_noticed
        from .license_text import Detector, FindingCache
        from .wheels import read_wheel

        detect = Detector(FindingCache(self.cache_dir))
        try:
            opened = [
                read_wheel(
                    p,
                    self.wheels[p],
                    context.checksum_algorithms,
                    context.limits.max_members,
                    lambda c, files, notices: concluded_or_noticed(c, files, notices, detect, context.notice),
                )
                for p in sorted(self.wheels)
            ]
        finally:
            detect.cache.close()
        projects: dict[str, str] = {}
        for path, (wheel, _) in zip(sorted(self.wheels), opened, strict=True):
            other = projects.setdefault(canonicalize_name(wheel.name), path)
            if other != path:  # ensurepip installs one of them: which one is anyone's guess
                raise ContentError(f"{BUNDLED_DIR}: two wheels of {wheel.name}: {other} and {path}")
        # Bundled wheels before what they vendor: on an SPDX ID clash the bundled one keeps the plain ID.
        for wheel, _ in opened:
            context.add_component(wheel, depended_on_by=context.root_key)
        for wheel, vendored in opened:
            for component in vendored:
                context.add_component(component, depended_on_by=wheel.key)
        if not any(wheel.name == "pip" for wheel, _ in opened):
            context.notice(f"no pip wheel in {BUNDLED_DIR}: the SBOM lists no pip and no vendored packages")
