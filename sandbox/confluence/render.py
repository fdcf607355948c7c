"""Storage format to HTML for the page viewer: plain XHTML passes through, Confluence's own
macros (status, info panels, toc, code) render simply, task lists become checkboxes, and the
app's macros become placeholders the viewer replaces with iframes.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass, field

from . import storage
from .storage import ac, ri

PASS_THROUGH = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "code",
    "pre",
    "br",
    "hr",
    "span",
    "div",
    "blockquote",
    "sub",
    "sup",
    "a",
    "colgroup",
    "col",
    "del",
    "time",
}
SAFE_ATTRIBUTES = {"href", "colspan", "rowspan", "class", "title", "datetime"}
VOID = {"br", "hr", "col"}
PANELS = {"info", "note", "warning", "tip", "panel"}
BUILTIN_MACROS = PANELS | {"status", "toc", "code", "expand", "anchor", "children", "excerpt", "noformat"}
STATUS_COLOURS = {"green", "red", "yellow", "blue", "grey", "purple"}


@dataclass
class MacroSlot:
    """An app macro found while rendering; the viewer turns each into an iframe."""

    name: str
    macro_id: str
    parameters: dict
    index: int


@dataclass
class Rendered:
    html: str
    macros: list[MacroSlot] = field(default_factory=list)
    tasks: list[tuple[str, str]] = field(default_factory=list)


class _Renderer:
    def __init__(self, is_app_macro, page_link, frame_for):
        self.is_app_macro = is_app_macro
        self.page_link = page_link
        self.frame_for = frame_for
        self.result = Rendered("")
        self.headings: list[tuple[int, str]] = []
        self.user_name = None

    def children(self, element) -> str:
        parts = [html.escape(element.text or "")]
        for child in element:
            parts.append(self.node(child))
            parts.append(html.escape(child.tail or ""))
        return "".join(parts)

    def node(self, element) -> str:
        if not isinstance(element.tag, str):
            return ""  # comments and processing instructions
        tag = element.tag
        if tag == ac("task-list"):
            return f'<ul class="task-list">{"".join(self.task(t) for t in element if t.tag == ac("task"))}</ul>'
        if tag == ac("structured-macro"):
            return self.macro(element)
        if tag == ac("link"):
            return self.link(element)
        if tag == ac("image"):
            return '<span class="image-placeholder">[image]</span>'
        if tag in (ac("emoticon"),):
            return "🙂"
        if tag.startswith("{"):
            return self.children(element)
        if tag == "time" and not storage.text_of(element).strip():  # a /date: Confluence shows the date itself
            stamp = element.get("datetime", "")
            return f'<time class="date-lozenge" datetime="{html.escape(stamp)}">{html.escape(_date_text(stamp))}</time>'
        if tag in PASS_THROUGH:
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                text = storage.text_of(element)
                anchor = f"h-{len(self.headings)}"
                self.headings.append((int(tag[1]), text))
                return f'<{tag} id="{anchor}">{self.children(element)}</{tag}>'
            attrs = "".join(
                f' {k}="{html.escape(v)}"'
                for k, v in element.attrib.items()
                if k in SAFE_ATTRIBUTES and not (k == "href" and v.strip().lower().startswith("javascript:"))
            )
            if tag in VOID:
                return f"<{tag}{attrs}>"
            return f"<{tag}{attrs}>{self.children(element)}</{tag}>"
        return self.children(element)

    def task(self, element) -> str:
        local_id = storage.text_of(element.find(ac("task-id"))).strip()
        status = storage.text_of(element.find(ac("task-status"))).strip()
        body = element.find(ac("task-body"))
        self.result.tasks.append((local_id, status))
        checked = " checked" if status == "complete" else ""
        return (
            f'<li class="task" data-task-local-id="{html.escape(local_id)}">'
            f'<input type="checkbox" class="task-checkbox" data-task-local-id="{html.escape(local_id)}"{checked}> '
            f'<span class="task-body">{self.children(body) if body is not None else ""}</span></li>'
        )

    def link(self, element) -> str:
        person = element.find(ri("user"))
        if person is not None:  # Confluence shows a mention as the person's current display name
            account_id = person.get(ri("account-id"), "")
            name = self.user_name(account_id) if self.user_name else account_id
            return (
                f'<a class="user-mention" data-account-id="{html.escape(account_id)}" '
                f'href="/wiki/people/{html.escape(account_id)}">{html.escape(name)}</a>'
            )
        target = element.find(ri("page"))
        label = element.find(ac("plain-text-link-body"))
        if label is None:
            label = element.find(ac("link-body"))
        if target is not None:
            title = target.get(ri("content-title"), "")
            text = storage.text_of(label) if label is not None else title
            href = self.page_link(title, target.get(ri("space-key")))
            return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'
        url = element.find(ri("url"))
        if url is not None:
            return f'<a href="{html.escape(url.get(ri("value"), ""))}">{html.escape(storage.text_of(label) or url.get(ri("value"), ""))}</a>'
        return self.children(element)

    def macro(self, element) -> str:
        name = element.get(ac("name"), "")
        params = {p.get(ac("name")): storage.text_of(p) for p in element.findall(ac("parameter"))}
        rich = element.find(ac("rich-text-body"))
        plain = element.find(ac("plain-text-body"))
        if self.is_app_macro(name):
            slot = MacroSlot(
                name, element.get(ac("macro-id")) or f"auto-{len(self.result.macros)}", params, len(self.result.macros)
            )
            self.result.macros.append(slot)
            return self.frame_for(slot)
        if name == "status":
            colour = params.get("colour", "grey").lower()
            colour = colour if colour in STATUS_COLOURS else "grey"
            return f'<span class="status-lozenge status-{colour}">{html.escape(params.get("title", "").upper())}</span>'
        if name in PANELS:
            title = f'<p class="panel-title">{html.escape(params["title"])}</p>' if params.get("title") else ""
            return f'<div class="panel panel-{name}">{title}{self.children(rich) if rich is not None else ""}</div>'
        if name == "toc":
            return "<!--TOC-->"
        if name == "anchor":  # an invisible link target, as in Confluence
            return f'<span class="anchor" id="{html.escape(params.get("", ""))}"></span>'
        if name in ("code", "noformat"):
            return f'<pre class="code">{html.escape(storage.text_of(plain))}</pre>'
        if name == "expand":
            return (
                f"<details><summary>{html.escape(params.get('title', 'Expand'))}</summary>"
                f"{self.children(rich) if rich is not None else ''}</details>"
            )
        return f'<div class="macro-unknown">[{html.escape(name)} macro]</div>'


def _date_text(stamp: str) -> str:
    try:
        return datetime.date.fromisoformat(stamp[:10]).strftime("%b %d, %Y")
    except ValueError:
        return stamp


def render(body: str, *, is_app_macro, page_link, frame_for, user_name=None) -> Rendered:
    renderer = _Renderer(is_app_macro, page_link, frame_for)
    renderer.user_name = user_name
    root = storage.parse(body)
    out = renderer.children(root)
    toc = "".join(
        f'<li class="toc-{level}"><a href="#h-{i}">{html.escape(text)}</a></li>'
        for i, (level, text) in enumerate(renderer.headings)
    )
    renderer.result.html = out.replace("<!--TOC-->", f'<ul class="toc">{toc}</ul>')
    return renderer.result


def builtin_macro(name: str) -> bool:
    return name in BUILTIN_MACROS
