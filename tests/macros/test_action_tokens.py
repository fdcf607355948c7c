"""Decision-form tokens: bound to tenant, viewer, title and macro; a page's reloads within a minute reuse the
token issued then instead of signing a new one, and every token still verifies only for its own binding."""

from __future__ import annotations

import pytest

from addon.macros import action_tokens
from addon.macros.action_tokens import ActionTokenError


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def test_a_reload_within_the_reuse_window_gets_the_same_token(ctx):
    first = action_tokens.issue(1, "557058:ann", "42", "title-status")
    assert action_tokens.issue(1, "557058:ann", "42", "title-status") == first
    action_tokens.verify(first, tenant_id=1, account_id="557058:ann", work_id="42", macro_key="title-status")


def test_another_viewer_title_tenant_or_macro_gets_its_own_token(ctx):
    first = action_tokens.issue(1, "557058:ann", "42", "title-status")
    others = {
        action_tokens.issue(1, "557058:bob", "42", "title-status"),
        action_tokens.issue(1, "557058:ann", "43", "title-status"),
        action_tokens.issue(2, "557058:ann", "42", "title-status"),
        action_tokens.issue(1, "557058:ann", "42", "rights-position"),
    }
    assert first not in others and len(others) == 4
    with pytest.raises(ActionTokenError) as refused:
        action_tokens.verify(first, tenant_id=1, account_id="557058:bob", work_id="42", macro_key="title-status")
    assert refused.value.reason == "mismatch"


def test_after_the_reuse_window_a_new_token_is_signed(ctx, monkeypatch):
    first = action_tokens.issue(1, "557058:ann", "42", "title-status")
    later = action_tokens.time.time() + action_tokens.REUSE_SECONDS + 1
    monkeypatch.setattr(action_tokens.time, "time", lambda: later)
    second = action_tokens.issue(1, "557058:ann", "42", "title-status")
    assert second != first
    action_tokens.verify(second, tenant_id=1, account_id="557058:ann", work_id="42", macro_key="title-status")
