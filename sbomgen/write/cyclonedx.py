"""CycloneDX 1.6 (JSON or XML) through cyclonedx-python-lib, validated strictly before it is written.

The artifact's own component is the BOM's subject (``metadata.component``). Bundled
packages, and what the subject itself vendors, are top-level components, with what a
bundled package vendors nested inside it; every file is a ``file`` component with its
hashes, nested under the package that contains it (top-level for the subject's own
files). The dependency graph mirrors the inventory's.
The release files the index listed for a package are a property of its component.
"""

from __future__ import annotations

import datetime
import functools
import json
import uuid
import warnings
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import jsonschema
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.license import LicenseAcknowledgement, LicenseExpression
from cyclonedx.model.tool import Tool
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from packageurl import PackageURL

from .. import __version__
from ..documents.parse import parse_json
from ..errors import OutputValidationError
from ..model import Checksum, Component, FileEntry, Inventory, Party, content_id
from . import INDEX_FILES, index_files_json

_ALGORITHMS = {"SHA1": HashAlgorithm.SHA_1, "SHA256": HashAlgorithm.SHA_256, "SHA512": HashAlgorithm.SHA_512}
_NAMESPACE = uuid.UUID("6f1c8a52-3d0e-4a0e-9a57-8d2f6f4c1e11")  # sbomgen's, for serial numbers


def _hashes(checksums: tuple[Checksum, ...]) -> list[HashType]:
    return [
        HashType(alg=_ALGORITHMS[c.algorithm], content=c.value)
        for c in checksums
        if c.algorithm in _ALGORITHMS
    ]


def _supplier(party: Party | None) -> OrganizationalEntity | None:
    if party is None:
        return None
    if party.kind == "Organization":
        return OrganizationalEntity(name=party.name)
    return OrganizationalEntity(contacts=[OrganizationalContact(name=party.name, email=party.email)])


def _file(entry: FileEntry) -> CdxComponent:
    return CdxComponent(
        type=ComponentType.FILE,
        name=entry.path,
        bom_ref=f"file:{entry.path}",
        hashes=_hashes(entry.checksums),
    )


def _package(component: Component, ref: str, files: list[FileEntry]) -> CdxComponent:
    licenses = []
    if component.license_declared:
        licenses.append(
            LicenseExpression(component.license_declared, acknowledgement=LicenseAcknowledgement.DECLARED)
        )
    if component.license_concluded:
        licenses.append(
            LicenseExpression(component.license_concluded, acknowledgement=LicenseAcknowledgement.CONCLUDED)
        )
    references = []
    if component.download_location:
        references.append(
            ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(component.download_location))
        )
    properties = []
    if component.index_files:
        properties.append(Property(name=INDEX_FILES, value=index_files_json(component)))
    author = None
    if component.originator is not None:
        author = component.originator.name
    return CdxComponent(
        type=ComponentType.LIBRARY,
        name=component.name,
        version=component.version,
        bom_ref=ref,
        supplier=_supplier(component.supplier),
        authors=[OrganizationalContact(name=author)] if author else None,
        hashes=_hashes(component.checksums),
        licenses=licenses,
        purl=PackageURL.from_string(component.purl) if component.purl else None,
        cpe=component.cpe,
        external_references=references,
        properties=properties,
        components=[_file(f) for f in files],
    )


def build_bom(inventory: Inventory) -> Bom:
    refs = {c.key: f"pkg:{c.key}" for c in inventory.components}
    files = {f.path: f for f in inventory.files}
    nodes = {c.key: _package(c, refs[c.key], [files[p] for p in c.files]) for c in inventory.components}
    root = inventory.component(inventory.root)
    root_node = CdxComponent(
        type=ComponentType.APPLICATION,
        name=root.name,
        version=root.version,
        bom_ref=refs[root.key],
        supplier=_supplier(root.supplier),
        hashes=_hashes(root.checksums),
        licenses=nodes[root.key].licenses,
        cpe=root.cpe,
        purl=nodes[root.key].purl,
        external_references=nodes[root.key].external_references,
        properties=nodes[root.key].properties,
    )
    serial = uuid.uuid5(_NAMESPACE, f"{inventory.artifact.name}:{content_id(inventory)}")
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            timestamp=inventory.created.replace(tzinfo=datetime.timezone.utc),
            component=root_node,
            supplier=_supplier(root.supplier),
        ),
    )
    bom.metadata.tools.tools.add(Tool(vendor="sbomgen", name="sbomgen", version=__version__))
    for component in inventory.components:
        if component.key == root.key:
            continue
        if component.vendored_in in nodes and component.vendored_in != root.key:
            nodes[component.vendored_in].components.add(nodes[component.key])
        else:
            bom.components.add(nodes[component.key])
    for path in root.files:
        bom.components.add(_file(files[path]))
    graph: dict[str, list[str]] = defaultdict(list)
    for dependency in inventory.dependencies:
        graph[dependency.source].append(dependency.target)
    for source, targets in graph.items():
        node = root_node if source == root.key else nodes[source]
        bom.register_dependency(node, [nodes[t] for t in targets])
    return bom


def render(inventory: Inventory, xml: bool = False) -> bytes:
    """The validated CycloneDX 1.6 document (JSON, or XML when ``xml``)."""
    output_format = OutputFormat.XML if xml else OutputFormat.JSON
    # The library warns on stderr about a root without dependencies; stderr is sbomgen's own.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"cyclonedx\.")
        outputter = make_outputter(build_bom(inventory), output_format, SchemaVersion.V1_6)
        text = outputter.output_as_string(indent=None)
    if xml:
        problem = XmlValidator(SchemaVersion.V1_6).validate_str(text)
    else:
        document = parse_json(text, "the CycloneDX document", OutputValidationError)
        problem = next(_json_validator().iter_errors(document), None)
    if problem is not None:
        raise OutputValidationError(f"the CycloneDX document failed validation: {problem}")
    return (text + "\n").encode()


@functools.cache
def _json_validator() -> Any:
    """cyclonedx-python-lib's strict CycloneDX 1.6 JSON schema validator, with one keyword
    checked in linear time: jsonschema compares the items of an array of objects pairwise
    for ``uniqueItems``, which for a CPython tarball's thousands of file components took
    about 25 of the 30 seconds of a CycloneDX run. Items are compared by their canonical
    JSON text instead (the same verdicts for what sbomgen writes: no number is written
    both as an integer and as a float)."""
    strict = JsonStrictValidator(SchemaVersion.V1_6)._validator
    linear = jsonschema.validators.extend(type(strict), {"uniqueItems": _unique_items})
    return linear(strict.schema, registry=strict._registry, format_checker=strict.format_checker)


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Iterator[Any]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            yield jsonschema.ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)
