"""The two macro fast-path functions: `panel` builds (and memoises) a view model; `cached_panel` only
hands back one this process already built for the same data, settings and day, touching nothing else."""

from __future__ import annotations

from addon.macros.service import MacroRequest, cached_panel, panel


def test_cached_panel_is_empty_until_panel_builds_it_then_it_is_the_same_answer(forge_tenant, consonance):
    request = MacroRequest(tenant=forge_tenant, macro_key="title-status", title_ref="3")
    assert cached_panel(request) is None, "nothing built yet"
    built = panel(request)
    assert built.render_key is not None and built.title is not None
    consonance.control.clear_requests()
    assert cached_panel(request) is built
    assert consonance.control.requests() == [], "answered from memory and the shared cache only"


def test_cached_panel_never_answers_messages_or_titles_it_would_have_to_look_up(forge_tenant, consonance):
    from_the_page = MacroRequest(tenant=forge_tenant, macro_key="title-status", title_ref="", page_id="42")
    assert panel(from_the_page).render_key is None  # a message: no title for this page
    assert cached_panel(from_the_page) is None
    unknown = MacroRequest(tenant=forge_tenant, macro_key="rights-link", title_ref="999999")
    assert panel(unknown).title is None
    assert cached_panel(unknown) is None
    other_macro = MacroRequest(tenant=forge_tenant, macro_key="launch-readiness", title_ref="3")
    assert cached_panel(other_macro) is None, "another macro's view is not this one's"
