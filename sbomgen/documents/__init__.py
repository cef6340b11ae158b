"""The gate: every document sbomgen reads from outside passes here before any field is used.

``parse.py`` parses with bounds (size, nesting depth, number length, duplicate keys) and
turns a document into a typed model (``load_json``); ``fields.py`` holds the value types
the models share (text without control characters, hex digests, URLs). One module per
document kind holds its models. A failure is one line naming the document and the place
in it, raised as the caller's error class so that it carries the command's exit code.
After the gate no code indexes raw dicts.
"""
