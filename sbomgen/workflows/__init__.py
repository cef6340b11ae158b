"""Jobs built on the stages: SBOMs of each kind of artifact, releases, regeneration, checks."""
