"""Validate documents: SPDX 2.2/2.3 (spdx-tools), SPDX 3.0.1 JSON-LD (spdx-python-model),
CycloneDX 1.4-1.7 (cyclonedx-python-lib), in-toto statements (schemas/), sbomgen's release
manifests, and optionally the NTIA minimum elements. Every problem comes with where it is;
a JSON or YAML document of none of these kinds is said to be so in one line.

JSON, YAML and XML are parsed by the gate first (bounded size, depth and numbers; YAML
without aliases; every XML, SPDX RDF and SPDX XML too, without DTD or entities, in UTF-8,
then dispatched by its root element): a document it refuses is a ContentError (exit 4),
one line, before any validator sees it. What the gate accepts, the format's own validator
judges; its messages quote the document, so they are printed with every control character
escaped."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..documents import manifest, spdx3
from ..documents.cyclonedx import xml_root
from ..documents.parse import MAX_DOCUMENT_BYTES, parse_json
from ..documents.source import read_bounded
from ..documents.text import printable
from ..errors import ContentError

# What a statement, a DSSE envelope or a Sigstore bundle has at its top level.
_ATTESTATION_KEYS = {"_type", "payloadType", "signatures", "mediaType"}
_CDX_VERSIONS = {"1.4", "1.5", "1.6", "1.7"}
# What an SPDX 2 document has at its top level (all but "name", which is anyone's).
_SPDX_KEYS = {"spdxVersion", "SPDXID", "dataLicense", "documentNamespace", "creationInfo"}
_SPEC_VERSION = re.compile(rb'"specVersion"\s*:\s*"([0-9.]{1,8})"')
UNKNOWN_KIND = "document of an unknown kind"
NOT_VALIDATED = "not an SBOM or statement sbomgen validates: expected SPDX, CycloneDX or an in-toto statement"


def outcome(path: Path, ntia: bool = False) -> tuple[bool, list[str]]:
    """Whether the file at ``path`` is valid, and the lines ``sbomgen validate`` prints for
    it: one when it is valid or of a kind sbomgen does not validate, else one and a line per
    problem."""
    kind, problems = validate_file(path, ntia)
    if kind == UNKNOWN_KIND:
        return False, [f"{path}: {NOT_VALIDATED}"]
    if not problems:
        met = " (NTIA minimum elements met)" if ntia and "SPDX" in kind else ""
        return True, [f"{path}: valid {kind}{met}"]
    return False, [
        f"{path}: INVALID {kind} ({len(problems)} problem(s))",
        *(f"  {path}: {problem}" for problem in problems),
    ]


def validate_file(path: Path, ntia: bool = False) -> tuple[str, list[str]]:
    """The kind of document and its problems (empty when valid), every character a terminal
    would act on escaped: the validators quote the document's values in their messages."""
    kind, problems = _validate(path, ntia)
    return printable(kind), [printable(problem) for problem in problems]


def _validate(path: Path, ntia: bool) -> tuple[str, list[str]]:
    from spdx_tools.spdx.formats import FileFormat, file_name_to_format

    from ..documents import spdx_serialisations as serialised

    source = str(path)
    content = read_bounded(path, source, ContentError, MAX_DOCUMENT_BYTES)
    head = content.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    try:
        spdx_format = file_name_to_format(source)
    except Exception:  # not a name spdx-tools knows; its parser says so below
        spdx_format = None
    if head == b"<" or spdx_format in (FileFormat.XML, FileFormat.RDF_XML):
        # Every XML passes the XML gate (no DTD, no entities) and goes where its root says.
        root = xml_root(content, source, ContentError)
        if root.tag == serialised.RDF_ROOT:
            graph = serialised.load_rdf(content, root, source, ContentError)
            return _spdx(path, ntia, lambda: _from_graph(graph))
        if root.tag == serialised.XML_ROOT:
            shape = serialised.load_xml(content, root, source, ContentError)
            return _spdx(path, ntia, lambda: _from_dict(shape), shape)
        return _cyclonedx_xml(content, source, root)
    if spdx_format is FileFormat.YAML:
        return _spdx_or_unknown(path, ntia, serialised.load_yaml(content, source, ContentError))
    if head in (b"{", b"[") or path.suffix.lower() == ".json":
        streamed = _cyclonedx_streamed(content)
        if streamed is not None:
            return streamed
        document = parse_json(content, source, ContentError)
        if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
            return _cyclonedx_json(document, source)
        if isinstance(document, dict) and document.keys() & _ATTESTATION_KEYS:
            return _attestation(content, source)
        if isinstance(document, dict) and document.get("format") == manifest.FORMAT:
            return _manifest(content, source)
        if spdx3.is_spdx3(document):
            return _spdx3(document, source)
        return _spdx_or_unknown(path, ntia, document)
    if spdx_format is FileFormat.TAG_VALUE or (spdx_format is None and _is_tag_value(content)):
        # Line ends as spdx-tools' own reader sees them: a file opened as text.
        try:
            text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError as exc:
            raise ContentError(f"{source}: not UTF-8 (byte {exc.start})") from None
        kind, problems = _spdx(path, ntia, lambda: tag_value_parser().parse(text))
        if not _has_data_license(text):  # spdx-tools' model assumes CC0-1.0 where it is missing
            problems.insert(0, "document: DataLicense is missing (SPDX 2.3 requires one)")
        return kind, problems
    return _spdx(path, ntia, lambda: _parse_file(source))


# A tag-value document's first tag, under any name (spdx-tools knows it only as *.spdx).
# The start of its first line that is neither blank nor a comment: found by a search from each
# line's start, never a repetition over lines, whose backtracking held memory for every line.
# (The lookahead and back reference take the line's indent whole, as an atomic group would.)
_FIRST_LINE = re.compile(rb"(?:\A|(?<=\n))(?=((?:\xef\xbb\xbf)?[ \t]*))\1(?!#|\r?\n|\r?\Z)")


def _is_tag_value(content: bytes) -> bool:
    """Whether ``content`` (perhaps after a BOM) is tag-value: its first tag, after blank and
    comment lines, is SPDXVersion."""
    first = _FIRST_LINE.search(content)
    if first is None or (first.start() > 0 and first.group(1).startswith(b"\xef\xbb\xbf")):
        return False
    return content.startswith(b"SPDXVersion:", first.end())


_DATA_LICENSE = re.compile(r"^[ \t]*DataLicense:", re.MULTILINE)


def _has_data_license(text: str) -> bool:
    """Whether a tag-value document gives its DataLicense: a line that says so within a
    ``<text>`` block (a comment's) is the comment's text, no tag."""
    at = 0
    while True:
        start = text.find("<text>", at)
        if _DATA_LICENSE.search(text, at, len(text) if start == -1 else start):
            return True
        if start == -1:
            return False
        end = text.find("</text>", start)
        if end == -1:  # the block runs to the end
            return False
        at = end + len("</text>")


def _spdx_or_unknown(path: Path, ntia: bool, document: Any) -> tuple[str, list[str]]:
    """SPDX read as JSON or YAML, or a document of a kind sbomgen does not validate: said so,
    not judged as an SPDX document it never was."""
    if not (isinstance(document, dict) and document.keys() & _SPDX_KEYS):
        return UNKNOWN_KIND, [NOT_VALIDATED]
    return _spdx(path, ntia, lambda: _from_dict(document), document)


def _spdx3(document: Any, source: str) -> tuple[str, list[str]]:
    """SPDX 3.0.1 JSON-LD, judged by the official bindings: what they cannot read, the
    references they cannot link, the required properties they find missing."""
    try:
        return "SPDX 3.0.1", spdx3.load_value(document, source, ContentError).problems
    except ContentError as exc:
        return "SPDX 3.0.1", [str(exc).removeprefix(f"{source}: ")]


def _manifest(content: bytes, source: str) -> tuple[str, list[str]]:
    """A release manifest, read as ``release --check`` reads it."""
    try:
        manifest.load_manifest(content, source)
    except ContentError as exc:
        return "sbomgen release manifest", [str(exc).removeprefix(f"{source}: ")]
    return "sbomgen release manifest", []


def _from_dict(shape: Any) -> Any:
    return json_like_dict_parser().parse(shape)


def json_like_dict_parser() -> Any:
    """spdx-tools' parser of SPDX JSON, YAML and XML, with one step in linear time: it looks
    for each ``documentDescribes`` and ``hasFiles`` entry in the list of every relationship
    (quadratic: minutes for thousands of them); here in a set of the same relationships."""
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.parser.jsonlikedict.relationship_parser import RelationshipParser

    class LinearRelationshipParser(RelationshipParser):
        known: tuple[list[Any], set[tuple[Any, ...]]] | None = None

        def check_if_relationship_exists(self, relationship: Any, existing_relationships: list[Any]) -> bool:
            if self.known is None or self.known[0] is not existing_relationships:
                self.known = existing_relationships, {_key(r) for r in existing_relationships}
            keys = self.known[1]
            return _key(relationship) in keys or _key(self.invert_relationship(relationship)) in keys

    parser = JsonLikeDictParser()
    parser.relationship_parser = LinearRelationshipParser()
    return parser


def _from_graph(graph: Any) -> Any:
    from spdx_tools.spdx.parser.rdf.rdf_parser import translate_graph_to_document

    return translate_graph_to_document(graph)


def tag_value_parser() -> Any:
    """spdx-tools' tag-value parser, reading every license expression with one licensing
    (its own builds the whole SPDX license list again for each: 20 ms each, and each
    expression keeps its copy alive, 14 GB for 10,000 packages), and asking whether the
    CONTAINS relationship of a file below a package is known already of a set of the
    relationships rather than their list (quadratic: minutes for 10,000 files)."""
    from license_expression import ExpressionError
    from spdx_tools.common.spdx_licensing import spdx_licensing
    from spdx_tools.spdx.model import Relationship, RelationshipType
    from spdx_tools.spdx.parser.tagvalue.helper_methods import grammar_rule
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    class SharedLicensingParser(Parser):
        @grammar_rule("license_or_no_assertion_or_none : LINE")
        def p_license(self, p: Any) -> None:
            try:
                p[0] = spdx_licensing.parse(p[1])
            except ExpressionError as err:
                error_message = f"Error while parsing license expression: {p[1]}"
                if err.args:
                    error_message += f": {err.args[0]}"
                self.current_element["logger"].append(error_message)

        def check_for_preceding_package_and_build_contains_relationship(self) -> None:
            file_id = self.current_element["spdx_id"]
            if "packages" not in self.elements_built:
                return
            if not self.elements_built["packages"]:
                self.logger.append(
                    f"Error while building contains relationship for file {file_id}, "
                    f"preceding package was not parsed successfully."
                )
                return
            package_id = self.elements_built["packages"][-1].spdx_id
            relationship = Relationship(package_id, RelationshipType.CONTAINS, file_id)
            built = self.elements_built.setdefault("relationships", [])
            keys = self.__dict__.setdefault("relationship_keys", set())
            keys.update(map(_key, built[self.__dict__.get("relationships_seen", 0) :]))  # appended since
            if _key(relationship) not in keys:
                built.append(relationship)
                keys.add(_key(relationship))
            self.relationships_seen = len(built)

    # Parsing tables made in memory (written, they would land beside this module).
    return SharedLicensingParser(write_tables=False, debug=False)


def _key(relationship: Any) -> tuple[Any, ...]:
    """What tells relationships apart (their equality), hashable: NONE and NOASSERTION
    are objects that equal no string."""
    target = relationship.related_spdx_element_id
    end = target if isinstance(target, str) else (type(target).__name__,)
    return relationship.spdx_element_id, relationship.relationship_type, end, relationship.comment


def _parse_file(source: str) -> Any:
    """A name spdx-tools reports it cannot read (tag-value has ``tag_value_parser``)."""
    from spdx_tools.spdx.parser.parse_anything import parse_file

    return parse_file(source)


def _spdx(path: Path, ntia: bool, parse: Callable[[], Any], parsed: Any = None) -> tuple[str, list[str]]:
    """``parse``: spdx-tools' parser given what the gate read (the file is not parsed twice);
    ``parsed``: the JSON-like value the gate gave, for locating what spdx-tools cannot."""
    from spdx_tools.spdx.parser.error import SPDXParsingError

    from ..write.spdx_validation import validate_document

    try:
        document = parse()
    except SPDXParsingError as exc:
        return "SPDX", _located_by_model(parsed) or [f"parsing: {m}" for m in exc.get_messages()]
    except Exception as exc:  # the parsers raise a variety of errors on garbage
        return "SPDX", _located_by_model(parsed) or [f"parsing: {exc}"]
    kind = f"SPDX {document.creation_info.spdx_version.removeprefix('SPDX-')}"
    problems = []
    for message in validate_document(document):
        context = message.context
        where = (context.spdx_id or context.parent_id or "") if context else ""
        element = context.element_type.name.lower() if context and context.element_type else "document"
        relationship = getattr(context, "full_element", None) if element == "relationship" else None
        if relationship is not None:
            how = relationship.relationship_type.name
            where = f"{relationship.spdx_element_id} {how} {relationship.related_spdx_element_id}"
        problems.append(
            f"{element} {where}: {message.validation_message}"
            if where
            else f"{element}: {message.validation_message}"
        )
    if ntia and not problems:
        problems += _ntia(path)
    return kind, problems


def _located_by_model(parsed: Any) -> list[str]:
    """Where the gate's SPDX model finds a problem in a document spdx-tools could not parse
    (its messages on wrong types are Python's: "'str' object has no attribute 'get'")."""
    from ..documents import spdx2
    from ..documents.parse import validate

    if parsed is None:
        return []
    try:
        spdx2.unique_ids(validate(spdx2.Document, parsed, "", ContentError), "", ContentError)
    except ContentError as exc:
        return [f"parsing: {str(exc).removeprefix(': ')}"]
    return []


def _ntia(path: Path) -> list[str]:
    from ntia_conformance_checker.sbom_checker import SbomChecker

    checker = SbomChecker(str(path))
    if checker.compliant:
        return []
    problems = []
    for label, missing in (
        ("components without a name", getattr(checker, "components_without_names", [])),
        ("components without a version", getattr(checker, "components_without_versions", [])),
        ("components without a supplier", getattr(checker, "components_without_suppliers", [])),
        ("components without an identifier", getattr(checker, "components_without_identifiers", [])),
    ):
        if missing:
            problems.append(f"NTIA minimum elements: {label}: {', '.join(map(str, missing))}")
    if not getattr(checker, "doc_author", True):
        problems.append("NTIA minimum elements: no SBOM author")
    if not getattr(checker, "doc_timestamp", True):
        problems.append("NTIA minimum elements: no creation timestamp")
    if not getattr(checker, "dependency_relationships", True):
        problems.append("NTIA minimum elements: no dependency relationships")
    return problems or ["NTIA minimum elements: not conformant"]


def _cyclonedx_json(document: dict[str, Any], source: str) -> tuple[str, list[str]]:
    """The schema is the model here: it locates every problem; only the version is read first."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonValidationError

    from ..documents.cyclonedx import Header
    from ..documents.parse import validate
    from ..write.cyclonedx import json_validator

    version = validate(Header, document, source, ContentError).specVersion
    if version not in _CDX_VERSIONS:
        return f"CycloneDX {version}", [
            f"specVersion: {version!r} is not one of {', '.join(sorted(_CDX_VERSIONS))}"
        ]
    # The strict validator's verdicts, in linear time (see json_validator).
    validator = json_validator(SchemaVersion.from_version(version))
    return f"CycloneDX {version}", [_located(JsonValidationError(e)) for e in validator.iter_errors(document)]


def _cyclonedx_streamed(content: bytes) -> tuple[str, list[str]] | None:
    """A valid CycloneDX JSON BOM found valid a component at a time, so that no more than one
    is held parsed; None for anything else, which ``_cyclonedx_json`` judges read whole (it
    lists every problem, in the schema's order). The schema has no keyword across members,
    so the BOM is valid when it is without its components and each is as an item of them,
    and no two components are alike (``uniqueItems``, by their keys' hashes: two alike are
    read whole to tell). The components may come before the version (sbomgen sorts keys):
    they are judged by the schema of the first ``specVersion`` in the text, and the BOM is
    read whole when its own is another."""
    from cyclonedx.schema import SchemaVersion

    from ..documents import stream
    from ..documents.cyclonedx import Header
    from ..write.cyclonedx import equality_key, json_validator

    claimed = _SPEC_VERSION.search(content)
    if claimed is None or b'"CycloneDX"' not in content or claimed.group(1).decode() not in _CDX_VERSIONS:
        return None
    version = claimed.group(1).decode()
    validator = json_validator(SchemaVersion.from_version(version))
    items = validator.schema["properties"]["components"]["items"]
    keys: set[int] = set()

    def valid(members: dict[str, Any], item: Any) -> None:
        key = hash(equality_key(item))
        if key in keys or next(validator.descend(item, items), None) is not None:
            raise stream.Refused
        keys.add(key)

    document = stream.read_members(content, valid)
    if document is None or document.get("bomFormat") != "CycloneDX":
        return None
    try:
        if Header.model_validate(document).specVersion != version:
            return None
    except ValueError:  # pydantic's ValidationError: the gate's words for it
        return None
    if next(validator.iter_errors({**document, "components": []}), None) is not None:
        return None
    return f"CycloneDX {version}", []


def _cyclonedx_xml(content: bytes, source: str, root: Any) -> tuple[str, list[str]]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    from ..documents.cyclonedx import parse_xml

    version, _ = parse_xml(content, source, ContentError, root)
    if version not in _CDX_VERSIONS:
        return "XML", [
            f"not a CycloneDX {'/'.join(sorted(_CDX_VERSIONS))} document (namespace says {version})"
        ]
    errors = XmlValidator(SchemaVersion.from_version(version)).validate_str(content.decode(), all_errors=True)
    return f"CycloneDX {version} XML", [_located(e) for e in (errors or [])]


def _located(error: Any) -> str:
    detail: Any = getattr(error, "data", None)
    path = getattr(detail, "json_path", None)
    if path is None and hasattr(detail, "absolute_path"):
        path = "/".join(map(str, detail.absolute_path)) or "(root)"
    if hasattr(detail, "line"):
        path = f"line {detail.line}"
    message = getattr(detail, "message", None) or str(error)
    return f"{path}: {message}" if path else str(message)


def _attestation(content: bytes, source: str) -> tuple[str, list[str]]:
    """An in-toto statement, alone, in a DSSE envelope or in a Sigstore bundle: read by the
    gate as ``verify`` reads it, the statement then checked against schemas/."""
    from ..documents.bundle import Kind, read_bundle, sigstore_bundle
    from ..errors import VerificationFailed
    from ..provenance.signing import PAYLOAD_TYPE
    from ..provenance.statement import schema_problems

    try:
        bundle = read_bundle(content, source)
        if bundle.kind in (Kind.MESSAGE_SIGNATURE, Kind.SIGSTORE_DSSE):
            sigstore_bundle(bundle, source)
    except VerificationFailed as exc:
        return "signed statement or bundle", [str(exc).removeprefix("bundle: ")]
    kind = bundle.kind.value.removeprefix("a ").removeprefix("an ")
    if bundle.kind is Kind.MESSAGE_SIGNATURE:
        return f"{kind} (verify checks its signature against the file it signs)", []
    if bundle.envelope is not None and bundle.envelope.payloadType != PAYLOAD_TYPE:
        return kind, [f"payloadType: {bundle.envelope.payloadType!r} is not an in-toto statement"]
    payload = bundle.envelope.payload if bundle.envelope is not None else content
    statement = parse_json(payload, f"{source}: payload", ContentError)
    if not isinstance(statement, dict):
        return kind, ["payload: not a JSON object"]
    where = "payload: " if bundle.envelope is not None else ""
    return kind, [f"{where}{problem}" for problem in schema_problems(statement)]
