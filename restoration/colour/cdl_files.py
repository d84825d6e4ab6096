"""ASC CDL XML files: ``.cc`` (one ColorCorrection), ``.ccc`` (a ColorCorrectionCollection of
many, each with an ``id``) and ``.cdl`` (a ColorDecisionList of ColorDecisions, each holding a
ColorCorrection).

A ColorCorrection holds ``SOPNode`` (``Slope``, ``Offset``, ``Power``: three numbers each) and
``SatNode`` (``Saturation``); a missing node means no change, as in the ASC spec. Namespaces are
ignored on reading (files in the wild use v1.01, v1.2 or none) and written as
``urn:ASC:CDL:v1.01``, which every CDL-aware tool (and OpenColorIO) reads.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from restoration.colour.cdl import Cdl
from restoration.colour.lut import write_atomically
from restoration.errors import SpecError

__all__ = ["CDL_EXTENSIONS", "cdl_file_parse", "cdl_file_read", "cdl_file_text", "cdl_file_write", "cdl_load"]

CDL_EXTENSIONS = (".cc", ".ccc", ".cdl")
NAMESPACE = "urn:ASC:CDL:v1.01"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag).lower() == name.lower()]


def _child(element: ElementTree.Element, name: str, path: Path, where: str) -> ElementTree.Element | None:
    found = _children(element, name)
    if len(found) > 1:
        raise SpecError(f"{path}: {where} has {len(found)} {name} elements, expected one")
    return found[0] if found else None


def _values(element: ElementTree.Element | None, count: int, default: list[float], path: Path, where: str
            ) -> list[float]:
    if element is None:
        return default
    words = (element.text or "").split()
    if len(words) != count:
        raise SpecError(f"{path}: {where} {_local(element.tag)} needs {count} number{'s' * (count > 1)}, "
                        f"got {' '.join(words) or 'nothing'!r}")
    try:
        return [float(word) for word in words]
    except ValueError:
        raise SpecError(f"{path}: {where} {_local(element.tag)} must be numbers, got {' '.join(words)!r}") from None


def _correction(element: ElementTree.Element, path: Path, where: str) -> Cdl:
    sop = _child(element, "SOPNode", path, where)
    sat = _child(element, "SatNode", path, where)
    if sat is None:
        sat = _child(element, "SATNode", path, where)
    if sop is None and sat is None:
        raise SpecError(f"{path}: {where} has neither SOPNode nor SatNode")
    slope = offset = power = None
    if sop is not None:
        slope = _child(sop, "Slope", path, where)
        offset = _child(sop, "Offset", path, where)
        power = _child(sop, "Power", path, where)
    saturation = None if sat is None else _child(sat, "Saturation", path, where)
    try:
        return Cdl(slope=tuple(_values(slope, 3, [1.0] * 3, path, where)),
                   offset=tuple(_values(offset, 3, [0.0] * 3, path, where)),
                   power=tuple(_values(power, 3, [1.0] * 3, path, where)),
                   saturation=_values(saturation, 1, [1.0], path, where)[0])
    except SpecError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise SpecError(f"{path}: {where}: {exc}") from None


def cdl_file_read(path: str | os.PathLike) -> dict[str, Cdl]:
    """All colour corrections of a .cc/.ccc/.cdl file, by id, in file order (a correction without
    an id is keyed by its position, "0", "1", ...). Raises SpecError (one line) on a bad file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such CDL file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return cdl_file_parse(data, path)


def cdl_file_parse(data: bytes | str, path: str | os.PathLike = "CDL") -> dict[str, Cdl]:
    """The colour corrections of a .cc/.ccc/.cdl file's content (``cdl_file_read``); ``path``
    only names the file in messages. Document type declarations are refused: an ASC file needs
    none, and entity expansion is how a small hostile XML file becomes a huge one."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise SpecError(f"{path}: XML document type declarations (DOCTYPE, ENTITY) are not allowed in a CDL file")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise SpecError(f"{path}: line {line}, column {column}: malformed XML") from None
    kind = _local(root.tag)
    if kind == "ColorCorrection":
        elements = [root]
    elif kind == "ColorCorrectionCollection":
        elements = _children(root, "ColorCorrection")
    elif kind == "ColorDecisionList":
        elements = []
        for decision in _children(root, "ColorDecision"):
            elements += _children(decision, "ColorCorrection")
    else:
        raise SpecError(f"{path}: root element is {kind}; expected ColorCorrection, ColorCorrectionCollection "
                        "or ColorDecisionList")
    if not elements:
        raise SpecError(f"{path}: no ColorCorrection in the file")
    corrections: dict[str, Cdl] = {}
    for position, element in enumerate(elements):
        key = element.get("id") or str(position)
        if key in corrections:
            raise SpecError(f"{path}: two ColorCorrections have the id {key!r}")
        where = f"ColorCorrection {key!r}"
        corrections[key] = _correction(element, path, where)
    return corrections


def cdl_load(path: str | os.PathLike, correction_id: str | None = None) -> Cdl:
    """One correction: the only one in the file, or the one with ``correction_id``."""
    corrections = cdl_file_read(path)
    if correction_id is not None:
        if correction_id not in corrections:
            raise SpecError(f"{path}: no ColorCorrection with id {correction_id!r} (ids: {', '.join(corrections)})")
        return corrections[correction_id]
    if len(corrections) > 1:
        raise SpecError(f"{path}: holds {len(corrections)} corrections; choose one with an id "
                        f"({', '.join(list(corrections)[:10])})")
    return next(iter(corrections.values()))


def _number(value: float) -> str:
    return f"{value:.10g}"


def _correction_element(key: str, cdl: Cdl, *, namespaced: bool) -> ElementTree.Element:
    tag = (lambda name: f"{{{NAMESPACE}}}{name}") if namespaced else (lambda name: name)
    element = ElementTree.Element(tag("ColorCorrection"), {"id": key})
    sop = ElementTree.SubElement(element, tag("SOPNode"))
    for name, values in (("Slope", cdl.slope), ("Offset", cdl.offset), ("Power", cdl.power)):
        ElementTree.SubElement(sop, tag(name)).text = " ".join(_number(v) for v in values)
    sat = ElementTree.SubElement(element, tag("SatNode"))
    ElementTree.SubElement(sat, tag("Saturation")).text = _number(cdl.saturation)
    return element


def cdl_file_write(path: str | os.PathLike, corrections: dict[str, Cdl] | Cdl, *, correction_id: str = "grade"
                   ) -> None:
    """Write corrections as the extension says: ``.cc`` (exactly one), ``.ccc`` or ``.cdl``.
    A single ``Cdl`` is written under ``correction_id``. The file appears whole or not at all."""
    path = Path(path)
    write_atomically(path, cdl_file_text(corrections, extension=path.suffix, correction_id=correction_id, name=path))


def cdl_file_text(corrections: dict[str, Cdl] | Cdl, *, extension: str, correction_id: str = "grade",
                  name: str | os.PathLike = "CDL") -> str:
    """The text of a ``.cc`` (exactly one correction), ``.ccc`` or ``.cdl`` file (``cdl_file_write``)."""
    path = name
    extension = extension.lower()
    if extension not in CDL_EXTENSIONS:
        raise SpecError(f"{path}: a CDL file must end in .cc, .ccc or .cdl")
    if isinstance(corrections, Cdl):
        corrections = {correction_id: corrections}
    if not corrections:
        raise SpecError(f"{path}: no correction to write")
    ElementTree.register_namespace("", NAMESPACE)
    if extension == ".cc":
        if len(corrections) != 1:
            raise SpecError(f"{path}: a .cc file holds one correction, got {len(corrections)}; use .ccc")
        (key, cdl), = corrections.items()
        root = _correction_element(key, cdl, namespaced=True)
    else:
        outer = "ColorCorrectionCollection" if extension == ".ccc" else "ColorDecisionList"
        root = ElementTree.Element(f"{{{NAMESPACE}}}{outer}")
        for key, cdl in corrections.items():
            parent = root if extension == ".ccc" else ElementTree.SubElement(root, f"{{{NAMESPACE}}}ColorDecision")
            parent.append(_correction_element(key, cdl, namespaced=True))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
