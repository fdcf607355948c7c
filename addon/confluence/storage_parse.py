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
        root = etree.fromstring(_WRAPPER_OPEN + _numeric_entities(storage) + _WRAPPER_CLOSE, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise StorageParseError(f"malformed storage format: {exc.msg} (line {exc.lineno})") from exc
    _drop_adf_fallbacks(root)
    return root


def _drop_adf_fallbacks(root: etree._Element) -> None:
    """The new editor saves a panel, a decision list or an expand as an `ac:adf-extension` holding its content
    twice: as ADF (`ac:adf-node`) and as plain XHTML for older readers (`ac:adf-fallback`). Readers keep the
    first: reading both would see every decision, lesson or date in such a panel twice."""
    fallback, node = q("ac:adf-fallback"), q("ac:adf-node")
    for extension in list(root.iter(q("ac:adf-extension"))):
        if extension.find(node) is not None:
            for copy in extension.findall(fallback):
                extension.remove(copy)


def _root(doc: str | etree._Element) -> etree._Element:
    return parse(doc) if isinstance(doc, str) else doc


def q(prefixed: str) -> str:
    """`ac:task` -> `{http://atlassian.com/content}task`."""
    prefix, _, local = prefixed.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{local}" if local else prefixed


_BLOCKS = frozenset(
    ["p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"]
    + [q(tag) for tag in ("ac:task", "ac:task-list", "ac:layout-cell", "ac:layout-section", "ac:adf-content")]
)
_BREAK = "\0"  # where a block begins or ends: XML text cannot hold it, so it is never the page's own text
_BREAKS = re.compile(r"\s*\0[\s\0]*")
_BREAKS_AT_ENDS = re.compile(r"^[\s\0]*\0|\0[\s\0]*$")


def text_of(node: etree._Element, *, skip: tuple[str, ...] = (), lines: bool = False) -> str:
    """The text a reader sees inside `node`: macro parameters and ADF attributes left out (a status lozenge
    reads as its title), and subtrees whose tag is in `skip` left out.

    `lines=True` reads it as a person does: a line for each paragraph, list item or line break (two paragraphs
    in a cell are two lines, not one word run into the next), a page link as its text or the page's title, a
    date inserted with /date as its ISO date, a template's placeholder text left out. Without it the text is run together as it always was: what
    decisions, lessons and gates are recognised by (their identities) must not change under them."""
    skipped = {q(s) for s in skip} | {q("ac:parameter"), q("ac:adf-attribute")}
    if lines:
        skipped.add(q("ac:placeholder"))  # a template's "Type the next step" is not what the admin wrote
    macro_tag, name_attr = q("ac:structured-macro"), q("ac:name")
    link_tag, page_tag, title_attr = q("ac:link"), q("ri:page"), q("ri:content-title")
    parts: list[str] = []

    def walk(element: etree._Element, is_root: bool) -> None:
        if not is_root and element.tag in skipped:
            return
        if element.tag == macro_tag and element.get(name_attr) == "status":
            title = element.find(f"{q('ac:parameter')}[@{{{AC}}}name='title']")
            parts.append(title.xpath("string()") if title is not None else "")
            return
        if lines and element.tag == "br":
            parts.append(_BREAK)
            return
        if lines and element.tag == "time" and not (element.text or "").strip() and element.get("datetime"):
            parts.append(element.get("datetime", "")[:10])
            return
        if lines and element.tag == link_tag:
            page = element.find(page_tag)
            shown = "".join(element.itertext(q("ac:link-body"), q("ac:plain-text-link-body"))).strip()
            if not shown and page is not None:
                parts.append(page.get(title_attr, ""))
                return
        block = lines and not is_root and element.tag in _BLOCKS
        if block:
            parts.append(_BREAK)
        if element.text and not isinstance(element, (etree._Comment, etree._ProcessingInstruction)):
            parts.append(element.text)
        for child in element:
            walk(child, False)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(_BREAK)

    walk(node, True)
    text = "".join(parts)
    return _BREAKS.sub("\n", _BREAKS_AT_ENDS.sub("", text)) if lines else text


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
    """Each table as rows of cell texts (header cells included), a cell's paragraphs, list items and line
    breaks as lines (`text_of(lines=True)`); nested tables appear separately. Merged cells keep the columns
    in place: a cell spanning rows is repeated in each of them, one spanning columns is followed by empty
    cells, so a column means the same thing in every row."""
    tables = []
    for table in _root(doc).iter("table"):
        rows: list[list[str]] = []
        carried: dict[int, tuple[str, int]] = {}  # column -> (text, rows it still covers below)
        for row in table.iter("tr"):
            if next(row.iterancestors("table")) is not table:
                continue
            cells: list[str] = []
            for cell in row:
                if cell.tag not in ("td", "th"):
                    continue
                _carry_down(cells, carried)
                text = text_of(cell, skip=("table",), lines=True).strip()
                down, across = span(cell, "rowspan"), span(cell, "colspan")
                if down > 1:
                    carried[len(cells)] = (text, down - 1)
                cells.append(text)
                cells.extend([""] * (across - 1))
            _carry_down(cells, carried)
            rows.append(cells)
        tables.append(rows)
    return tables


def _carry_down(cells: list[str], carried: dict[int, tuple[str, int]]) -> None:
    """Fill the columns at the end of `cells` that a cell in a row above still spans."""
    while len(cells) in carried:
        text, left = carried.pop(len(cells))
        if left > 1:
            carried[len(cells)] = (text, left - 1)
        cells.append(text)


def span(cell: etree._Element, attribute: str, most: int = 100) -> int:
    """A cell's `rowspan` or `colspan` as a count (1 when absent or not a number; at most `most`)."""
    value = (cell.get(attribute) or "").strip()
    return min(int(value), most) if value.isdigit() and int(value) > 0 else 1


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
