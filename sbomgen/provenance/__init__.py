"""SLSA provenance for release artifacts: statements, signing, verification."""
