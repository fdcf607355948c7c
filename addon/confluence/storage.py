"""Build Confluence storage-format XHTML from parts, with every piece of text escaped.

Builders return `Fragment`s (markup we made, so safe to nest). A plain `str` anywhere is text and
gets escaped; the only way to put raw markup in is `trusted(...)`, which says so at the call site.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Characters XML 1.0 cannot carry at all, not even as references: replaced by U+FFFD.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
STATUS_COLOURS = ("Grey", "Red", "Yellow", "Green", "Blue", "Purple")
OUR_MACRO_NAMES = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


@dataclass(frozen=True)
class Fragment:
    """A piece of storage XHTML that is already well-formed and escaped."""

    xml: str

    def __str__(self) -> str:
        return self.xml

    def __add__(self, other: Content) -> Fragment:
        return Fragment(self.xml + _render(other))


Content = str | Fragment | Iterable["Content"] | None


def trusted(xml: str) -> Fragment:
    """Mark storage markup as trusted (ours, or already validated); nothing else skips escaping."""
    return Fragment(xml)


def _clean(value: object) -> str:
    return _XML_ILLEGAL.sub("\ufffd", str(value))


def escape_text(value: object) -> str:
    """Text content: `& < >` escaped; `\\r` as a reference so parsers do not turn it into `\\n`."""
    return _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attr(value: object) -> str:
    """Attribute value in double quotes; tabs and newlines as references (attribute normalisation)."""
    return escape_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _render(content: Content) -> str:
    if content is None:
        return ""
    if isinstance(content, Fragment):
        return content.xml
    if isinstance(content, str):
        return escape_text(content)
    return "".join(_render(part) for part in content)


def text(value: str) -> Fragment:
    return Fragment(escape_text(value))


def element(tag: str, *content: Content, **attrs: object) -> Fragment:
    """`<tag attr="...">content</tag>`; attribute names use `_` for `:` and `-` (ac_name -> ac:name)."""
    if not re.fullmatch(r"[A-Za-z][\w:.-]*", tag):
        raise ValueError(f"not an element name: {tag!r}")
    rendered_attrs = "".join(f' {_attr_name(k)}="{escape_attr(v)}"' for k, v in attrs.items() if v is not None)
    inner = _render(content)
    if not inner:
        return Fragment(f"<{tag}{rendered_attrs} />") if tag in _VOID else Fragment(f"<{tag}{rendered_attrs}></{tag}>")
    return Fragment(f"<{tag}{rendered_attrs}>{inner}</{tag}>")


_VOID = {"br", "hr", "ri:page", "ri:attachment", "ri:user", "ri:space", "ri:url", "col"}
_ATTR_NAMES = {
    "ac_name": "ac:name",
    "ac_macro_id": "ac:macro-id",
    "ac_schema_version": "ac:schema-version",
    "ri_content_title": "ri:content-title",
    "ri_space_key": "ri:space-key",
    "ri_filename": "ri:filename",
    "ri_value": "ri:value",
    "ac_anchor": "ac:anchor",
    "class_": "class",
}


def _attr_name(name: str) -> str:
    if name in _ATTR_NAMES:
        return _ATTR_NAMES[name]
    if not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ValueError(f"not an attribute name: {name!r}")
    return name.replace("_", "-")


def document(*parts: Content) -> str:
    """The storage body of a page: the concatenation of its block-level parts."""
    return _render(parts)


# ------------------------------------------------------------------ blocks and inline
def heading(level: int, *content: Content) -> Fragment:
    if not 1 <= int(level) <= 6:
        raise ValueError("heading level is 1..6")
    return element(f"h{int(level)}", *content)


def paragraph(*content: Content) -> Fragment:
    return element("p", *content)


def strong(*content: Content) -> Fragment:
    return element("strong", *content)


def emphasis(*content: Content) -> Fragment:
    return element("em", *content)


def bullet_list(items: Iterable[Content]) -> Fragment:
    return element("ul", [element("li", item) for item in items])


def table(header: Iterable[Content], rows: Iterable[Iterable[Content]]) -> Fragment:
    """A table with one header row; each cell holds text or fragments."""
    head = element("tr", [element("th", cell) for cell in header])
    body = [element("tr", [element("td", cell) for cell in row]) for row in rows]
    return element("table", element("tbody", head, body))


def page_link(title: str, *, space_key: str | None = None, link_text: str | None = None) -> Fragment:
    """`<ac:link><ri:page ri:content-title=.../></ac:link>`, optionally with visible text."""
    body = element("ac:link-body", link_text) if link_text else None
    return element("ac:link", element("ri:page", ri_space_key=space_key, ri_content_title=title), body)


def macro(
    name: str,
    parameters: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    *,
    rich_body: Content = None,
    plain_body: str | None = None,
    macro_id: str | None = None,
) -> Fragment:
    """`<ac:structured-macro>` with parameters and an optional rich-text or plain-text body."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ValueError(f"not a macro name: {name!r}")
    pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
    params = [element("ac:parameter", str(value), ac_name=key) for key, value in pairs if value is not None]
    body = None
    if rich_body is not None:
        body = element("ac:rich-text-body", rich_body)
    elif plain_body is not None:
        body = Fragment("<ac:plain-text-body>" + cdata(plain_body) + "</ac:plain-text-body>")
    return element(
        "ac:structured-macro",
        params,
        body,
        ac_name=name,
        ac_schema_version="1",
        ac_macro_id=macro_id or str(uuid.uuid4()),
    )


def cdata(value: str) -> str:
    """CDATA holding any text: `]]>` split across two sections, `\r` as a reference between them
    (inside CDATA a parser would turn it into `\n`)."""
    body = _clean(value).replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return "<![CDATA[" + body + "]]>"


def our_macro(name: str, parameters: Mapping[str, object], *, macro_id: str | None = None) -> Fragment:
    """One of the app's own macros (title-status, rights-link, ...), with its parameters."""
    if name not in OUR_MACRO_NAMES:
        raise ValueError(f"not one of our macros: {name!r}")
    return macro(name, parameters, macro_id=macro_id)


def status_lozenge(title: str, colour: str = "Grey", *, subtle: bool = False) -> Fragment:
    """Confluence's own `status` macro (a coloured lozenge)."""
    if colour not in STATUS_COLOURS:
        raise ValueError(f"status colour is one of {STATUS_COLOURS}")
    params = [("colour", colour), ("title", title)] + ([("subtle", "true")] if subtle else [])
    return macro("status", params)


def info_panel(*content: Content, title: str | None = None) -> Fragment:
    return macro("info", {"title": title}, rich_body=list(content))


def table_of_contents(*, min_level: int | None = None, max_level: int | None = None) -> Fragment:
    return macro("toc", {"minLevel": min_level, "maxLevel": max_level})


@dataclass(frozen=True)
class TaskItem:
    task_id: str
    body: Content
    complete: bool = False


def task_list(tasks: Iterable[TaskItem]) -> Fragment:
    """`<ac:task-list>` of `<ac:task>` with id, status and body."""
    items = [
        element(
            "ac:task",
            element("ac:task-id", str(t.task_id)),
            element("ac:task-status", "complete" if t.complete else "incomplete"),
            element("ac:task-body", t.body),
        )
        for t in tasks
    ]
    return element("ac:task-list", items)
