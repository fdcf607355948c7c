"""Which titles a page's title-status panels show, read from the page's storage format."""

from __future__ import annotations

from addon.macros.page_binding import title_refs_on_page


def test_every_title_status_macro_counts_and_others_do_not():
    storage = (
        '<ac:structured-macro ac:name="title-status" ac:macro-id="a"><ac:parameter ac:name="title">3</ac:parameter>'
        "</ac:structured-macro>"
        '<ac:structured-macro ac:name="rights-link" ac:macro-id="b"><ac:parameter ac:name="title">4</ac:parameter>'
        "</ac:structured-macro>"
        '<ac:structured-macro ac:name="expand"><ac:rich-text-body>'
        '<ac:structured-macro ac:name="title-status" ac:macro-id="c"><ac:parameter ac:name="title">978-0-00-000000-2'
        "</ac:parameter></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="title-status" ac:macro-id="d"/>'
        "<p>title-status 5</p>"
    )
    assert title_refs_on_page(storage) == ["3", "978-0-00-000000-2", ""]


def test_a_forge_macro_stored_as_an_adf_extension_counts():
    storage = (
        '<ac:adf-extension><ac:adf-node type="extension">'
        '<ac:adf-attribute key="extension-key">app-1/env-1/static/title-status</ac:adf-attribute>'
        '<ac:adf-parameter key="guest-params"><ac:adf-parameter key="title">12</ac:adf-parameter></ac:adf-parameter>'
        "</ac:adf-node></ac:adf-extension>"
    )
    assert title_refs_on_page(storage) == ["12"]
