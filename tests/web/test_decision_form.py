"""The push-decision form's schema: what it accepts, and the one code each kind of mistake gets."""

from __future__ import annotations

import pytest

from addon.web import decision_form

GOOD = {"decisionType": "note", "idempotencyKey": "a" * 32, "text": "  Cover approved  ", "workId": "3"}


def test_a_good_form_loads_with_defaults_and_ids_as_text():
    form = decision_form.load({**GOOD, "workId": 3, "pageId": 10003, "unknown": "ignored"})
    assert form["workId"] == "3" and form["pageId"] == "10003"
    assert form["text"] == "Cover approved" and form["macro"] == "title-status" and "unknown" not in form


@pytest.mark.parametrize(
    "change, code",
    [
        ({"decisionType": "delete_everything"}, "bad_decision_type"),
        ({"decisionType": None}, "bad_decision_type"),
        ({"idempotencyKey": "short"}, "bad_idempotency_key"),
        ({"text": "   "}, "text_required"),
        ({"text": ["a list"]}, "text_required"),
        ({"text": "x" * 5001}, "text_too_long"),
        ({"workId": "4 OR 1=1"}, "no_title"),
        ({"workId": ""}, "no_title"),
        ({"workId": True}, "no_title"),
        ({"macro": "evil"}, "bad_macro"),
        ({"pageId": "../admin"}, "bad_page"),
    ],
)
def test_each_mistake_has_its_code_and_sentence(change, code):
    with pytest.raises(decision_form.FormRefused) as refused:
        decision_form.load({**GOOD, **change})
    assert refused.value.error == code and refused.value.message.endswith(".")


def test_an_approval_needs_no_words_and_a_body_that_is_not_an_object_is_refused():
    assert decision_form.load({**GOOD, "decisionType": "approve_stage", "text": ""})["text"] == ""
    with pytest.raises(decision_form.FormRefused) as refused:
        decision_form.load(["not", "a", "form"])
    assert refused.value.error == "bad_request"
