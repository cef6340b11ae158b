"""Reading artifacts: decompression, the tar reader, checked members, the pass in a child."""
