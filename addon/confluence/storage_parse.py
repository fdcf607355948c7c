"""Read Confluence storage format: task lists, tables, macros (nested too).

Storage is an XHTML fragment with `ac:`/`ri:` prefixes never declared and HTML named entities
(`&nbsp;`, `&rsquo;`) XML does not know. We turn named entities into numeric references
(outside CDATA and comments), wrap the fragment in a root declaring the namespaces, and parse
strictly: malformed input is a StorageParseError saying where, never a silent "repair".
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree

AC = "http://atlassian.com/content"
RI = "http://atlassian.com/resource/identifier"
AT = "http://atlassian.com/template"
NAMESPACES = {"ac": AC, "ri": RI, "at": AT}
_WRAPPER_OPEN = f'<ac:confluence xmlns:ac="{AC}" xmlns:ri="{RI}" xmlns:at="{AT}">'
_WRAPPER_CLOSE = "</ac:confluence>"
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY_OR_SKIP = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|&([A-Za-z][A-Za-z0-9]*);", re.S)


class StorageParseError(ValueError):
    """The storage text is not well-formed (or uses an entity/prefix nobody defines)."""


def _numeric_entities(storage: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name is None or name in _XML_ENTITIES:
            return match.group(0)
        chars = html.entities.html5.get(name + ";")
        if chars is None:
            raise StorageParseError(f"unknown entity &{name}; in storage format")
        return "".join(f"&#{ord(c)};" for c in chars)

    return _ENTITY_OR_SKIP.sub(replace, storage)


_PARSER = etree.XMLParser(
    recover=False, resolve_entities=False, no_network=True, huge_tree=True, remove_comments=False, strip_cdata=True
)


def parse(storage: str) -> etree._Element:
    """The wrapper root element holding the page's top-level nodes."""
    if not isinstance(storage, str):
        raise TypeError("storage format is text (str)")
    try:
        return etree.fromstring(_WRAPPER_OPEN + _numeric_entities(storage) + _WRAPPER_CLOSE, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise StorageParseError(f"malformed storage format: {exc.msg} (line {exc.lineno})") from exc


def _root(doc: str | etree._Element) -> etree._Element:
    return parse(doc) if isinstance(doc, str) else doc


def q(prefixed: str) -> str:
    """`ac:task` -> `{http://atlassian.com/content}task`."""
    prefix, _, local = prefixed.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{local}" if local else prefixed


def text_of(node: etree._Element, *, skip: tuple[str, ...] = ()) -> str:
    """The text a reader sees inside `node`: macro parameters left out (a status lozenge reads
    as its title), and subtrees whose tag is in `skip` left out."""
    skipped = {q(s) for s in skip} | {q("ac:parameter")}
    macro_tag, name_attr = q("ac:structured-macro"), q("ac:name")
    parts: list[str] = []

    def walk(element: etree._Element, is_root: bool) -> None:
        if not is_root and element.tag in skipped:
            return
        if element.tag == macro_tag and element.get(name_attr) == "status":
            title = element.find(f"{q('ac:parameter')}[@{{{AC}}}name='title']")
            parts.append(title.xpath("string()") if title is not None else "")
            return
        if element.text and not isinstance(element, (etree._Comment, etree._ProcessingInstruction)):
            parts.append(element.text)
        for child in element:
            walk(child, False)
            if child.tail:
                parts.append(child.tail)

    walk(node, True)
    return "".join(parts)


def inner_xml(node: etree._Element) -> str:
    """Serialised content of `node` (children with prefixes, no namespace declarations)."""
    pieces = [escape_for_inner(node.text or "")]
    for child in node:
        raw = etree.tostring(child, encoding="unicode", with_tail=False)
        pieces.append(_strip_ns_decls(raw))
        pieces.append(escape_for_inner(child.tail or ""))
    return "".join(pieces)


def escape_for_inner(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _strip_ns_decls(xml: str) -> str:
    return re.sub(r' xmlns:(ac|ri|at)="[^"]*"', "", xml)


# ------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class ParsedTask:
    task_id: str | None
    status: str  # "complete" | "incomplete"
    body_text: str
    body_storage: str
    uuid: str | None = None
    parent_task_id: str | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def find_tasks(doc: str | etree._Element) -> list[ParsedTask]:
    """Every `ac:task` in document order, nested lists included (with their parent task's id)."""
    found = []
    for task in _root(doc).iter(q("ac:task")):
        body = task.find(q("ac:task-body"))
        parent = next((a for a in task.iterancestors(q("ac:task"))), None)
        found.append(
            ParsedTask(
                task_id=_child_text(task, "ac:task-id"),
                status=(_child_text(task, "ac:task-status") or "incomplete").strip(),
                body_text=text_of(body, skip=("ac:task-list",)).strip() if body is not None else "",
                body_storage=inner_xml(body) if body is not None else "",
                uuid=_child_text(task, "ac:task-uuid"),
                parent_task_id=_child_text(parent, "ac:task-id") if parent is not None else None,
            )
        )
    return found


def _child_text(node: etree._Element, tag: str) -> str | None:
    child = node.find(q(tag))
    return None if child is None else text_of(child).strip()


# ------------------------------------------------------------------ tables
def find_tables(doc: str | etree._Element) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header cells included); nested tables appear separately."""
    tables = []
    for table in _root(doc).iter("table"):
        rows = []
        for row in table.iter("tr"):
            if next(row.iterancestors("table")) is not table:
                continue
            rows.append([text_of(cell, skip=("table",)).strip() for cell in row if cell.tag in ("td", "th")])
        tables.append(rows)
    return tables


# ------------------------------------------------------------------ macros
@dataclass(frozen=True)
class ParsedMacro:
    name: str
    macro_id: str | None
    parameters: dict = field(default_factory=dict)
    body_text: str | None = None
    plain_body: str | None = None
    parent_macro_id: str | None = None
    depth: int = 0  # 0: not inside another macro


def find_macros(doc: str | etree._Element, name: str | None = None) -> list[ParsedMacro]:
    """Every structured macro in document order, nested ones too, optionally only those named `name`."""
    macros = []
    tag = q("ac:structured-macro")
    for node in _root(doc).iter(tag):
        macro_name = node.get(q("ac:name"), "")
        if name is not None and macro_name != name:
            continue
        ancestors = list(node.iterancestors(tag))
        parameters = {p.get(q("ac:name"), ""): text_of(p) for p in node.findall(q("ac:parameter"))}
        rich = node.find(q("ac:rich-text-body"))
        plain = node.find(q("ac:plain-text-body"))
        macros.append(
            ParsedMacro(
                name=macro_name,
                macro_id=node.get(q("ac:macro-id")),
                parameters=parameters,
                body_text=text_of(rich) if rich is not None else None,
                plain_body=(plain.text or "") if plain is not None else None,
                parent_macro_id=ancestors[0].get(q("ac:macro-id")) if ancestors else None,
                depth=len(ancestors),
            )
        )
    return macros


def paragraph_texts(doc: str | etree._Element) -> list[str]:
    return [text_of(p) for p in _root(doc).iter("p")]
