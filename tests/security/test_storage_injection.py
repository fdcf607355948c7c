"""Attack-table rows for the pages the app writes: a title name from Consonance carrying storage-format or
HTML markup becomes text in the page set (F1) the app creates in Confluence, never a macro or an element.

Real HTTP to both sandboxes: the title is acquired in Consonance, the poll sees it, the outbox delivers the
pages to the Confluence emulator, and the stored pages are read back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from lxml import etree

from addon.confluence import storage_parse
from addon.extensions import db
from addon.flows.change_detection import poll
from addon.titles.models import TitlePage
from tests.flows.sync_harness import CATALOGUE, drain

CONSONANCE_CATALOGUE = CATALOGUE
CONSONANCE_RESET_EACH_TEST = True

HOSTILE_NAMES = {
    "closing the macro and opening an html macro": (
        'Evil</ac:parameter></ac:structured-macro><ac:structured-macro ac:name="html">'
        "<ac:plain-text-body><![CDATA[<script>alert(1)</script>]]></ac:plain-text-body></ac:structured-macro>"
    ),
    "a script element": "<script>alert(document.cookie)</script> Orchard",
    "an attribute breakout": '" onmouseover="alert(1)" x="\' /><img src=x onerror=alert(2)>',
    "a CDATA end and an entity": "]]><![CDATA[ &amp; &lt;b&gt; &xxe;",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_NAMES))
def test_a_hostile_title_name_is_text_in_every_page_the_app_writes(tenant, consonance, confluence, name):
    hostile = HOSTILE_NAMES[name]
    assert poll(tenant)["baseline"] == 1
    work = consonance.control.acquire_title(hostile)
    assert poll(tenant)["title_acquired"] == 1
    drain(tenant)
    rows = db.session.execute(sa.select(TitlePage).where(TitlePage.work_id == str(work["id"]))).scalars().all()
    assert rows, "the page set was written"
    texts = []
    for row in rows:
        page = confluence.get_page(row.page_id)
        assert hostile in page.title  # the name, exactly, as the page title (Confluence titles are text)
        macros = {m.name for m in storage_parse.find_macros(page.body)}
        assert "html" not in macros, row.role
        tree = etree.fromstring(f"<root>{_declare(page.body)}</root>".encode(), etree.XMLParser(resolve_entities=False))
        tags = {etree.QName(element).localname for element in tree.iter() if isinstance(element.tag, str)}
        assert not tags & {"script", "img", "svg", "iframe"}, row.role
        texts.append("".join(tree.itertext()))
        assert "onmouseover=" not in "".join(
            f"{k}={v}" for element in tree.iter() if isinstance(element.tag, str) for k, v in element.attrib.items()
        )
    assert any(hostile in text for text in texts), "the name is shown, as text, in the pages"


def _declare(body: str) -> str:
    """Storage format uses the ac:/ri: prefixes without declaring them; declare them for a strict parse."""
    return (
        '<wrap xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier">'
        + body.replace("&nbsp;", "&#160;")
        + "</wrap>"
    )
