"""The demo site's pages: what a publisher's Confluence space holds before the app is configured, so that
all eight flows can be seen from `make run` — a stage guide, rights guidance, a metadata standards table,
a production playbook, and parents for title pages, launch hubs, summaries and lessons.

They are written the way people write them (the editors' guide's example pages where it has them), before
the app is told about them: saving the app's configuration is what makes it read them.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from .seed import SPACE_KEY
from .store import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

TITLES_PARENT = "Titles"
STAGE_GUIDE = "Stage guide"
RIGHTS_PARENT = "Rights guidance"
STANDARDS = "Metadata standards"
PLAYBOOK = "Production playbook"
HUBS_PARENT = "Launch hubs"
SUMMARIES_PARENT = "Pipeline summaries"
LESSONS = "Lessons learned"

STAGES = (  # stage, reviewers, next step
    ("Acquisition", "Publisher; Rights", "Agree terms with the agent and send the offer for contract."),
    ("Contracted", "Rights; Contracts", "Countersign and file the contract; set the delivery date."),
    ("Writing", "Commissioning editor", "Check in with the author a month before delivery."),
    ("Manuscript delivered", "Commissioning editor", "Read the manuscript and send the editorial letter."),
    ("Editorial", "Commissioning editor; Publisher", "Agree structural edits, then brief the copy-editor."),
    ("Copy-editing", "Desk editor", "Send queries to the author; collect answers within two weeks."),
    ("Typesetting", "Production; Design", "Approve the sample pages and the cover proof."),
    ("Proofs", "Desk editor; Proofreader", "Collate corrections and return them to the typesetter."),
    ("Production", "Production; Sales", "Approve print-ready files and confirm the print run."),
    ("Published", "Marketing; Publisher", "Write the retrospective within a month of publication."),
)

# Guidance page -> (the rights it covers, what it says)
RIGHTS_PAGES = {
    "Translation and serial rights": (
        ("Translation", "Serial", "Book club"),
        "Offer translation rights through our sub-agents; serial rights go to the newspaper desk first.",
    ),
    "Audio and digital editions": (
        ("Audio", "Ebook", "Large print"),
        "We publish audio and ebook editions ourselves when we hold the rights; large print is licensed.",
    ),
    "US and film rights": (
        ("US", "Film & TV"),
        "US rights are sold as a block with Canada; film and TV enquiries go to the contracts director.",
    ),
}
ESCALATION = "Rights escalation"


def _example(name: str, fallback: str) -> str:
    path = EXAMPLES / name
    return path.read_text(encoding="utf-8") if path.is_file() else fallback


def stage_guide_body() -> str:
    rows = "".join(
        f"<tr><td>{escape(stage)}</td><td>{escape(reviewers)}</td><td>{escape(step)}</td></tr>"
        for stage, reviewers, step in STAGES
    )
    return (
        "<p>Who reviews a title at each stage, and what happens next. Title pages show the row for their stage.</p>"
        f"<table><tbody><tr><th>Stage</th><th>Reviewers</th><th>Next step</th></tr>{rows}</tbody></table>"
    )


def _page(store: Store, space_id: str, title: str, body: str, parent_id: str | None = None):
    existing = store.list_pages([space_id], title=title)
    return existing[0] if existing else store.create_page(space_id, title, body, parent_id=parent_id)


def seed_demo(store: Store) -> dict:
    """Create (or reuse) the demo pages in the seeded space; returns their ids by title. Idempotent."""
    space = store.space_by_key(SPACE_KEY)
    if space is None:
        raise LookupError(f"seed the {SPACE_KEY} space first")
    home = space.homepage_id
    made = {}

    def page(title, body, parent=home):
        made[title] = _page(store, space.id, title, body, parent).id
        return made[title]

    page(TITLES_PARENT, "<p>Every title's home page and its working pages live under here.</p>")
    page(STAGE_GUIDE, stage_guide_body())
    rights = page(RIGHTS_PARENT, "<p>How we handle rights: territories, licences, contracts and escalation.</p>")
    for title, (_rights, text) in RIGHTS_PAGES.items():
        page(title, f"<p>{escape(text)}</p>", rights)
    page(ESCALATION, "<p>Anything unclear in a contract goes to the contracts director within two days.</p>", rights)
    page(STANDARDS, _example("standards.xml", "<p>Metadata standards.</p>"))
    page(PLAYBOOK, _example("playbook.xml", "<p>Production playbook.</p>"))
    page(HUBS_PARENT, "<p>One launch hub per season: dates, format readiness and marketing plans.</p>")
    page(SUMMARIES_PARENT, "<p>Weekly and monthly pipeline summaries for the leadership team.</p>")
    page(LESSONS, "<p>What our retrospectives taught us, filed by stage.</p>")
    return made
