"""SLSA provenance for release artifacts: statements, signing, verification."""

import logging

# sigstore logs what sbomgen reports itself (e.g. that an offline trust root is not refreshed).
logging.getLogger("sigstore").setLevel(logging.ERROR)
