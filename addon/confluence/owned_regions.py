"""Owned regions: the parts of a page the app writes and may rewrite, and nothing else.

A region is the content between two invisible `anchor` macros (Confluence's own, so every editor
keeps them) named `consonance-for-confluence:begin:<region>` and `...:end:<region>`, each in its
own paragraph. Edits splice the original text at the markers' byte positions, so every character
outside the region (entities, CDATA, odd whitespace, other macros) stays exactly as it was.
See docs/confluence-client.md for why anchors rather than a container macro.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field

from addon.confluence.storage import Fragment
from addon.confluence.storage_parse import find_macros, parse

OWNER = "consonance-for-confluence"
REGION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MARKER_TEXT = re.compile(re.escape(OWNER) + r":(begin|end):(.+)")
_ID_NAMESPACE = uuid.UUID("6f1c7a52-2c1e-4f53-9a56-6c1f0a3d2b77")

_TOKEN = re.compile(
    r"""
    (?P<skip><!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>|<![A-Za-z][^>]*>)
  | (?P<end></(?P<end_name>[^\s>]+)\s*>)
  | (?P<start><(?P<name>[A-Za-z_][^\s/>]*)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(?P<empty>/?)>)
""",
    re.S | re.X,
)
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class OwnedRegionError(ValueError):
    """A region's markers are broken (one missing, duplicated, nested or no longer siblings)."""


class OwnedRegionMissing(OwnedRegionError, KeyError):
    """The page has no region of that name."""


@dataclass(frozen=True)
class Region:
    name: str
    start: int  # offset of the begin marker (its paragraph, when it has one of its own)
    inner_start: int  # first offset inside the region
    inner_end: int  # first offset of the end marker
    end: int  # offset just after the end marker

    def inner(self, storage: str) -> str:
        return storage[self.inner_start : self.inner_end]


@dataclass(eq=False)
class _Node:
    name: str
    attrs: dict[str, str]
    start: int
    open_end: int
    parent: _Node | None
    close_start: int = -1
    end: int = -1
    children: list[_Node] = field(default_factory=list)


def _check_name(region_name: str) -> None:
    if not REGION_NAME.fullmatch(region_name or ""):
        raise ValueError(f"region names are letters, digits, '_', '.', '-' (max 64): {region_name!r}")


def marker(kind: str, region_name: str) -> str:
    """The storage of one marker: an anchor macro alone in a paragraph, with a stable macro id."""
    _check_name(region_name)
    macro_id = uuid.uuid5(_ID_NAMESPACE, f"{kind}:{region_name}")
    return (
        f'<p><ac:structured-macro ac:name="anchor" ac:schema-version="1" ac:macro-id="{macro_id}">'
        f'<ac:parameter ac:name="">{OWNER}:{kind}:{region_name}</ac:parameter>'
        f"</ac:structured-macro></p>"
    )


def _scan(storage: str) -> list[_Node]:
    """Element spans of well-formed storage, in document order (positions in the original text)."""
    root = _Node("#root", {}, 0, 0, None)
    nodes: list[_Node] = []
    current = root
    for match in _TOKEN.finditer(storage):
        if match.group("skip"):
            continue
        if match.group("start"):
            attrs = {
                m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                for m in _ATTR.finditer(match.group("attrs") or "")
            }
            node = _Node(match.group("name"), attrs, match.start(), match.end(), current)
            current.children.append(node)
            nodes.append(node)
            if match.group("empty"):
                node.close_start, node.end = match.start(), match.end()
            else:
                current = node
        else:
            current.close_start, current.end = match.start(), match.end()
            assert current.parent is not None, "well-formed storage (parse checked it) never closes the root"
            current = current.parent
    return nodes


def _markers(storage: str) -> dict[tuple[str, str], list[_Node]]:
    """Our markers by (kind, region): the node that stands for each (anchor, or its own paragraph)."""
    found: dict[tuple[str, str], list[_Node]] = {}
    for node in _scan(storage):
        if node.name != "ac:structured-macro" or node.attrs.get("ac:name") != "anchor":
            continue
        for child in node.children:
            if child.name == "ac:parameter" and not child.children:
                value = html.unescape(storage[child.open_end : child.close_start]).strip()
                matched = _MARKER_TEXT.fullmatch(value)
                if matched:
                    found.setdefault((matched.group(1), matched.group(2)), []).append(_standing_node(storage, node))
    return found


def _standing_node(storage: str, anchor: _Node) -> _Node:
    parent = anchor.parent
    if parent is not None and parent.name == "p" and len(parent.children) == 1 and parent.children[0] is anchor:
        around = storage[parent.open_end : anchor.start] + storage[anchor.end : parent.close_start]
        if not html.unescape(around).strip():
            return parent
    return anchor


def _region_from(storage: str, name: str, markers: dict[tuple[str, str], list[_Node]]) -> Region | None:
    begins, ends = markers.get(("begin", name), []), markers.get(("end", name), [])
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1:
        raise OwnedRegionError(
            f"region {name!r} has {len(begins)} begin and {len(ends)} end markers; expected one each"
        )
    begin, end = begins[0], ends[0]
    if begin.parent is not end.parent:
        raise OwnedRegionError(f"region {name!r}: its begin and end markers are no longer siblings (moved by an edit)")
    if begin.end > end.start:
        raise OwnedRegionError(f"region {name!r}: end marker comes before begin marker")
    region = Region(name, begin.start, begin.end, end.start, end.end)
    for (_kind, other), nodes in markers.items():
        if other != name and any(region.inner_start <= n.start < region.inner_end for n in nodes):
            raise OwnedRegionError(f"region {name!r} contains a marker of region {other!r}; regions cannot nest")
    return region


def find_region(storage: str, region_name: str) -> Region | None:
    _check_name(region_name)
    parse(storage)  # well-formed, or StorageParseError; the scanner relies on it
    return _region_from(storage, region_name, _markers(storage))


def list_regions(storage: str) -> list[Region]:
    parse(storage)
    markers = _markers(storage)
    names = sorted({name for _, name in markers})
    # each name has a marker, so _region_from gives its region (or raises): None never reaches the sort
    regions = [region for n in names if (region := _region_from(storage, n, markers)) is not None]
    return sorted(regions, key=lambda r: r.start)


def read_region(storage: str, region_name: str) -> str | None:
    """The region's inner storage exactly as stored, or None if the page has no such region."""
    region = find_region(storage, region_name)
    return None if region is None else region.inner(storage)


def _checked_inner(inner: str | Fragment) -> str:
    text = inner.xml if isinstance(inner, Fragment) else inner
    if not isinstance(text, str):
        raise TypeError("region content is storage text or a Fragment")
    parse(text)
    for found in find_macros(text, "anchor"):
        if any(_MARKER_TEXT.fullmatch(v.strip()) for v in found.parameters.values()):
            raise OwnedRegionError("region content may not contain region markers")
    return text


def replace_region(storage: str, region_name: str, new_inner_storage: str | Fragment) -> str:
    """The page with only that region's content replaced; byte-identical elsewhere (and if unchanged)."""
    region = find_region(storage, region_name)
    if region is None:
        raise OwnedRegionMissing(f"the page has no region {region_name!r}")
    inner = _checked_inner(new_inner_storage)
    if region.inner(storage) == inner:
        return storage
    return storage[: region.inner_start] + inner + storage[region.inner_end :]


def region_storage(region_name: str, inner_storage: str | Fragment) -> str:
    """A complete region (markers around content) to place in a new page."""
    return marker("begin", region_name) + _checked_inner(inner_storage) + marker("end", region_name)


def insert_region_if_missing(storage: str, region_name: str, inner_storage: str | Fragment, *, at: str = "end") -> str:
    """Add the region at the start or end of the page unless it is there already (then unchanged)."""
    if at not in ("start", "end"):
        raise ValueError("at is 'start' or 'end'")
    if find_region(storage, region_name) is not None:
        return storage
    block = region_storage(region_name, inner_storage)
    return block + storage if at == "start" else storage + block
