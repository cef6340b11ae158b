"""SPDX 2 in YAML, XML and RDF/XML, for ``validate``: each read within the gate's limits
before spdx-tools sees it.

YAML: aliases are refused (ten nested aliases of ten make a 600-byte file expand to a
billion values for whatever walks the result), and so are explicit tags, duplicate keys,
nesting deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` nodes and numbers longer than
``MAX_NUMBER_CHARS``. XML and RDF/XML: parsed by ``cyclonedx.xml_root`` first (no DTD, no
entities, UTF-8 only), the same bytes then handed to xmltodict or rdflib.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import SbomgenError
from .parse import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_VALUES

RDF_ROOT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
XML_ROOT = "Document"


class _Refused(ValueError):
    pass


def _check_events(text: str, loader: type) -> None:
    """Refuse aliases, tags and too many or too deeply nested nodes, event by event (before
    anything is composed, so an alias is never followed)."""
    import yaml

    depth = nodes = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"a YAML alias at line {line} (aliases are not read)")
        if getattr(event, "tag", None) not in (None, "!"):
            # PyYAML's constructors fail in their own ways on tagged values (!!timestamp x)
            raise _Refused(f"a YAML tag at line {line} ({str(event.tag)[:80]!r}; tags are not read)")
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > MAX_VALUES:
                raise _Refused(f"more than {MAX_VALUES:,} values")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


@functools.cache
def _loader() -> type:
    """A safe loader (libyaml's when there is one) refusing duplicate keys and long numbers."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            mapping = super().construct_mapping(node, deep)
            if len(mapping) != len(node.value):
                keys = [self.construct_object(key, deep) for key, _ in node.value]
                duplicate = next(key for i, key in enumerate(keys) if key in keys[:i])
                raise _Refused(f"the key {str(duplicate)[:80]!r} appears twice in one mapping")
            return mapping

    def bounded(constructor: Any) -> Any:
        def construct(loader: Any, node: Any) -> Any:
            if len(node.value) > MAX_NUMBER_CHARS:
                raise _Refused(f"a number of {len(node.value)} characters (at most {MAX_NUMBER_CHARS})")
            return constructor(loader, node)

        return construct

    Loader.add_constructor("tag:yaml.org,2002:int", bounded(yaml.SafeLoader.construct_yaml_int))
    Loader.add_constructor("tag:yaml.org,2002:float", bounded(yaml.SafeLoader.construct_yaml_float))
    return Loader


def load_yaml(data: bytes, source: str, error: type[SbomgenError]) -> Any:
    """The value of one YAML document within the limits; else ``error`` naming ``source``."""
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 (byte {exc.start})") from None
    try:
        _check_events(text, _loader())
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader
    except _Refused as exc:
        raise error(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise error(f"{source}: not YAML ({exc.problem}{where})") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # e.g. a timestamp out of range
        raise error(f"{source}: not YAML ({exc})") from None
    except RecursionError:
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep") from None


def load_xml(data: bytes, root: Any, source: str, error: type[SbomgenError]) -> Any:
    """The JSON shape of an SPDX XML document (as spdx-tools' XML parser makes it), once the
    bytes have passed the XML gate (``root``: what ``xml_root`` made of them)."""
    import xmltodict
    from spdx_tools.spdx.parser.xml.xml_parser import _fix_list_like_fields

    if root.tag != XML_ROOT:
        raise error(f"{source}: not an SPDX XML document (root element {root.tag[:80]!r})")
    if _xml_deeper_than(root, MAX_DEPTH):
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep")
    return _fix_list_like_fields(xmltodict.parse(data)).get(XML_ROOT) or {}


def load_rdf(data: bytes, root: Any, source: str, error: type[SbomgenError]) -> Any:
    """The rdflib graph of an SPDX RDF/XML document, once the bytes have passed the XML
    gate (``root``: what ``xml_root`` made of them)."""
    from urllib.parse import urldefrag, urlsplit

    from rdflib import RDF, Graph, URIRef
    from spdx_tools.spdx.rdfschema.namespace import SPDX_NAMESPACE

    if root.tag != RDF_ROOT:
        raise error(f"{source}: not an RDF/XML document (root element {root.tag[:80]!r})")
    if _xml_deeper_than(root, MAX_DEPTH):
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep")
    try:
        graph = Graph().parse(data=data, format="xml")
    except Exception as exc:  # rdflib raises many kinds on RDF it cannot read
        raise error(f"{source}: not SPDX RDF/XML ({' '.join(str(exc).split())[:200]})") from None
    # Every URI spdx-tools (and this gate) will split must split: "https://[host" raises.
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef):
                try:
                    urlsplit(term)
                except ValueError as exc:
                    raise error(f"{source}: {str(term)[:80]!r} is not a URI ({exc})") from None
    # spdx-tools logs and calls sys.exit(1) when the document node is not one URI with a '#'
    documents = set(graph.subjects(RDF.type, SPDX_NAMESPACE.SpdxDocument))
    if len(documents) != 1:
        raise error(f"{source}: {len(documents)} SpdxDocument elements (exactly one is read)")
    subject = str(documents.pop())
    if "#" not in subject or not urldefrag(subject)[0]:
        raise error(f"{source}: the SpdxDocument's URI is not a namespace, '#' and the document's SPDX ID")
    return graph


def _xml_deeper_than(root: Any, limit: int) -> bool:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in element)
    return False
