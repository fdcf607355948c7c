"""One seeded site: space PUB ("Publishing") whose welcome page embeds the app's four macros
for a seeded title, beside ordinary Confluence content (status, info panel, toc, tasks, a table).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .store import Store

SPACE_KEY = "PUB"
SPACE_NAME = "Publishing"
WELCOME_TITLE = "Welcome to Publishing"
APP_MACROS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


def _macro(name: str, work_id: str) -> str:
    return (
        f'<ac:structured-macro ac:name="{name}" ac:schema-version="1" ac:macro-id="seed-{name}">'
        f'<ac:parameter ac:name="title">{escape(work_id)}</ac:parameter></ac:structured-macro>'
    )


def welcome_body(work_id: str) -> str:
    sections = "".join(
        f"<h2>{escape(name.replace('-', ' ').title())}</h2>{_macro(name, work_id)}" for name in APP_MACROS
    )
    return (
        '<ac:structured-macro ac:name="toc" ac:macro-id="seed-toc"/>'
        "<p>This space is where editorial, production, rights and marketing write about our titles. "
        f"Seeded title: work <strong>{escape(work_id)}</strong> "
        '<ac:structured-macro ac:name="status" ac:macro-id="seed-status"><ac:parameter ac:name="colour">Green</ac:parameter>'
        '<ac:parameter ac:name="title">Live data</ac:parameter></ac:structured-macro></p>'
        '<ac:structured-macro ac:name="info" ac:macro-id="seed-info"><ac:rich-text-body><p>The boxes below are live '
        "Consonance macros: they show the system of record, not a copy.</p></ac:rich-text-body></ac:structured-macro>"
        f"{sections}"
        "<h2>Launch checklist</h2>"
        "<ac:task-list>"
        "<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>Cover approved</ac:task-body></ac:task>"
        "<ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>Metadata sent to retailers</ac:task-body></ac:task>"
        "</ac:task-list>"
        "<table><tbody><tr><th>Format</th><th>Owner</th></tr>"
        "<tr><td>Hardback</td><td>Production</td></tr><tr><td>Ebook</td><td>Digital</td></tr></tbody></table>"
    )


def seed(store: Store, work_id: str = "1") -> dict:
    """Create (or reuse) the PUB space and its welcome page; idempotent per store."""
    space = store.space_by_key(SPACE_KEY) or store.create_space(
        SPACE_KEY, SPACE_NAME, "Titles, playbooks and standards"
    )
    existing = store.list_pages([space.id], title=WELCOME_TITLE)
    page = existing[0] if existing else store.create_page(space.id, WELCOME_TITLE, welcome_body(work_id))
    return {
        "spaceId": space.id,
        "spaceKey": space.key,
        "homepageId": space.homepage_id,
        "pageId": page.id,
        "pageUrl": f"/wiki/spaces/{space.key}/pages/{page.id}",
        "workId": work_id,
    }
