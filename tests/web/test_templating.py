"""The app's templates read view models (dicts) item-first, and answer exactly what Jinja's own reading does."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from jinja2 import Environment

from addon.web.templating import ViewModelEnvironment


class Obj:
    title = "attribute"

    def get(self, key, default=None):
        return "method on an object"


CONTEXT = {
    "view": {"title": {"workId": "42", "title": "<b>Salt</b>"}, "items": [1, 2], "get": "a key named get"},
    "labels": {"123": "Page one", "get": "shadow"},
    "ordered": OrderedDict(title="ordered"),
    "obj": Obj(),
    "nothing": None,
}
EXPRESSIONS = [
    "{{ view.title.workId }}",
    "{{ view.title.title }}",
    "{{ view.missing is defined }}",
    "{{ view.missing.deeper is defined }}",
    "{{ view.items }}",  # the dict's method, as Jinja has it: attributes first for names a dict defines
    "{{ view['items'] }}",
    "{{ view.get('title').workId }}",
    "{{ view.get }}",
    "{{ labels.get('123', 'none') }}|{{ labels.get('9', 'none') }}",
    "{{ ordered.title }}",
    "{{ obj.title }}|{{ obj.get('x') }}",
    "{{ nothing.title is defined }}",
    "{% for key, value in labels.items() %}{{ key }}={{ value }};{% endfor %}",
    "{{ view.__class__ }}",
]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_view_models_read_as_jinja_reads_them(app, source):
    assert isinstance(app.jinja_env, ViewModelEnvironment)
    plain = Environment(autoescape=True)
    with app.app_context():
        assert _outcome(app.jinja_env, source) == _outcome(plain, source)


def _outcome(environment, source: str) -> str:
    """What the template renders, or the kind of error it raises."""
    try:
        return environment.from_string(source).render(CONTEXT)
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return f"raised {type(exc).__name__}"


def test_a_missing_key_is_undefined_and_escaping_still_applies(app):
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ view.title.title }}|{{ view.nope }}|{{ view.nope is undefined }}")
        assert rendered.render(CONTEXT) == "&lt;b&gt;Salt&lt;/b&gt;||True"
