"""Reading Confluence storage format: task lists, macros, and task-status edits in place.

Parsing is tolerant (HTML named entities, the `ac:`/`ri:` namespaces); edits to task status are
textual so every other byte of the page stays as it was.
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

AC = "http://atlassian.com/content"
RI = "http://atlassian.com/resource/identifier"
AT = "http://atlassian.com/template"
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _numeric_entities(text: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
            return match.group(0)
        return f"&#{html.entities.name2codepoint[name]};"

    return _ENTITY.sub(replace, text)


def parse(storage: str) -> etree._Element:
    """Parse a storage-format fragment under a synthetic root that declares the namespaces."""
    wrapped = f'<root xmlns:ac="{AC}" xmlns:ri="{RI}" xmlns:at="{AT}">{_numeric_entities(storage or "")}</root>'
    parser = etree.XMLParser(recover=True, resolve_entities=False, strip_cdata=False)
    root = etree.fromstring(wrapped.encode("utf-8"), parser)
    if root is None:
        root = etree.Element("root")
    return root


def ac(name: str) -> str:
    return f"{{{AC}}}{name}"


def ri(name: str) -> str:
    return f"{{{RI}}}{name}"


def text_of(element) -> str:
    return "".join(element.itertext()) if element is not None else ""


@dataclass
class ParsedTask:
    local_id: str
    status: str
    body: str


@dataclass
class ParsedMacro:
    name: str
    macro_id: str | None
    parameters: dict = field(default_factory=dict)
    body: str = ""


def tasks_in(storage: str) -> list[ParsedTask]:
    tasks = []
    for task in parse(storage).iter(ac("task")):
        local_id = text_of(task.find(ac("task-id"))).strip()
        status = text_of(task.find(ac("task-status"))).strip() or "incomplete"
        body = task.find(ac("task-body"))
        body_xml = "".join(_inner_xml(body)) if body is not None else ""
        tasks.append(ParsedTask(local_id, "complete" if status == "complete" else "incomplete", body_xml))
    return tasks


def _inner_xml(element) -> list[str]:
    parts = [element.text or ""]
    for child in element:
        parts.append(_serialize(child))
    return parts


def _serialize(element) -> str:
    raw = etree.tostring(element, encoding="unicode", with_tail=True)
    return re.sub(r'\s+xmlns:(ac|ri|at)="[^"]*"', "", raw)


def macros_in(storage: str) -> list[ParsedMacro]:
    macros = []
    for macro in parse(storage).iter(ac("structured-macro")):
        parameters = {p.get(ac("name")): text_of(p) for p in macro.findall(ac("parameter"))}
        body_el = macro.find(ac("plain-text-body"))
        if body_el is None:
            body_el = macro.find(ac("rich-text-body"))
        body = (
            text_of(body_el)
            if body_el is not None and body_el.tag == ac("plain-text-body")
            else ("".join(_inner_xml(body_el)) if body_el is not None else "")
        )
        macros.append(ParsedMacro(macro.get(ac("name")), macro.get(ac("macro-id")), parameters, body))
    return macros


_TASK_BLOCK = re.compile(r"<ac:task>(.*?)</ac:task>", re.S)
_TASK_ID = re.compile(r"<ac:task-id>\s*([^<]*?)\s*</ac:task-id>")
_TASK_STATUS = re.compile(r"(<ac:task-status>)\s*[^<]*?\s*(</ac:task-status>)")


def ensure_task_ids(storage: str, taken: set[str] | None = None) -> str:
    """Give every `ac:task` without an id the next free local id, as Confluence does on save."""
    used = set(taken or ()) | {m.group(1) for m in _TASK_ID.finditer(storage)}
    counter = [1]

    def next_id() -> str:
        while str(counter[0]) in used:
            counter[0] += 1
        used.add(str(counter[0]))
        return str(counter[0])

    def fix(match: re.Match) -> str:
        inner = match.group(1)
        if _TASK_ID.search(inner):
            return match.group(0)
        return f"<ac:task><ac:task-id>{next_id()}</ac:task-id>{inner}</ac:task>"

    return _TASK_BLOCK.sub(fix, storage)


def set_task_status(storage: str, local_id: str, status: str) -> str:
    """Rewrite one task's status, leaving every other byte of the body unchanged."""

    def fix(match: re.Match) -> str:
        inner = match.group(1)
        found = _TASK_ID.search(inner)
        if not found or found.group(1) != local_id:
            return match.group(0)
        if _TASK_STATUS.search(inner):
            inner = _TASK_STATUS.sub(lambda m: f"{m.group(1)}{status}{m.group(2)}", inner, count=1)
        else:
            inner = inner.replace(found.group(0), f"{found.group(0)}<ac:task-status>{status}</ac:task-status>", 1)
        return f"<ac:task>{inner}</ac:task>"

    return _TASK_BLOCK.sub(fix, storage)


_MACRO_OPEN = re.compile(r"<ac:structured-macro\b[^>]*>", re.DOTALL)
_MACRO_ID = re.compile(r'\bac:macro-id="([^"]*)"')


def _parameter_pattern(name: str) -> re.Pattern:
    return re.compile(r'<ac:parameter\s+ac:name="' + re.escape(name) + r'"\s*(?:/>|>.*?</ac:parameter>)', re.DOTALL)


def set_macro_parameters(storage: str, macro_id: str, parameters: dict[str, str]) -> str:
    """Set (or, for an empty value, remove) parameters of the `ac:structured-macro` with this
    `ac:macro-id`, as Confluence's macro editor does; every other byte stays. KeyError if absent."""
    for opening in _MACRO_OPEN.finditer(storage):
        found = _MACRO_ID.search(opening.group(0))
        if not found or found.group(1) != macro_id:
            continue
        tag = opening.group(0)
        if tag.endswith("/>"):  # a self-closing macro gets a body to hold its parameters
            start, end, inner = opening.start(), opening.end(), ""
            tag = tag[:-2].rstrip() + ">"
        else:
            close = storage.find("</ac:structured-macro>", opening.end())
            if close < 0:
                raise KeyError(macro_id)
            start, end, inner = opening.start(), close + len("</ac:structured-macro>"), storage[opening.end() : close]
        for name, value in parameters.items():
            pattern = _parameter_pattern(name)
            text = str(value or "").strip()
            element = f'<ac:parameter ac:name="{escape(name)}">{escape(text)}</ac:parameter>' if text else ""
            if pattern.search(inner):
                inner = pattern.sub(lambda _m, new=element: new, inner, count=1)
            elif element:
                inner = element + inner
        return storage[:start] + tag + inner + "</ac:structured-macro>" + storage[end:]
    raise KeyError(macro_id)
