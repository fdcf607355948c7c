"""The Connect macro editor (the title picker page) and the wiring that opens the picker from both
transports: descriptor `editor` entries and the manifest's macro `config` resource."""

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import yaml

from tests.platform.signing import connect_claims

ROOT = Path(__file__).resolve().parents[2]
PATH = "/connect/macro-editor"
MACRO_KEYS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")


def context_token(payload, path=PATH, secret=None):
    return jwt.encode(
        connect_claims(payload["clientKey"], "GET", path, qsh="context-qsh"),
        secret or payload["sharedSecret"],
        algorithm="HS256",
    )


class _Picker(HTMLParser):
    """Collects the script sources and the picker root's attributes as a browser would read them."""

    def __init__(self):
        super().__init__()
        self.scripts, self.inline_scripts, self.root = [], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
            else:
                self.inline_scripts += 1
        if attrs.get("id") == "c4c-picker":
            self.root = attrs


def parse(html: str) -> _Picker:
    parser = _Picker()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("macro_key", MACRO_KEYS)
def test_editor_renders_the_picker_framed_only_by_the_site(client, connect_install, macro_key):
    payload = connect_install()
    response = client.get(f"{PATH}?macro={macro_key}&pageId=42&title=3&jwt={context_token(payload)}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://site-a.atlassian.test;" in csp
    assert "script-src 'self' https://site-a.atlassian.test;" in csp and "unsafe-inline" not in csp
    page = parse(response.get_data(as_text=True))
    assert page.inline_scripts == 0
    assert page.scripts == ["https://site-a.atlassian.test/atlassian-connect/all.js", "/static/macroconfig/connect.js"]
    assert page.root["data-macro"] == macro_key
    assert page.root["data-current"] == "3"
    assert page.root["data-search-url"] == "/connect/titles/search"


def test_the_current_setting_is_escaped(client, connect_install):
    payload = connect_install()
    hostile = '"><script>alert(1)</script>'
    response = client.get(PATH, query_string={"macro": "title-status", "title": hostile, "jwt": context_token(payload)})
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert parse(html).root["data-current"] == hostile  # kept as text, read back intact by the script


def test_editor_needs_a_valid_token(client, connect_install):
    payload = connect_install()
    assert client.get(f"{PATH}?macro=title-status").status_code == 401
    forged = context_token(payload, secret="not-the-shared-secret-of-this-tenant-at-all")
    assert client.get(f"{PATH}?macro=title-status&jwt={forged}").status_code == 401


def test_unknown_macro_is_404_after_authentication(client, connect_install):
    payload = connect_install()
    assert client.get(f"{PATH}?macro=not-ours&jwt={context_token(payload)}").status_code == 404
    assert client.get(f"{PATH}?macro=not-ours").status_code == 401


def test_every_connect_macro_opens_this_editor(app):
    descriptor = json.loads((ROOT / "atlassian-connect.json").read_text())
    served = {rule.rule for rule in app.url_map.iter_rules()}
    macros = descriptor["modules"]["dynamicContentMacros"]
    assert {m["key"] for m in macros} == set(MACRO_KEYS)
    for macro in macros:
        editor = macro["editor"]
        url = urlsplit(editor["url"])
        assert url.path in served
        assert parse_qs(url.query)["macro"] == [macro["key"]]
        assert editor["editTitle"]["value"] and editor["insertTitle"]["value"]
        assert editor["width"].endswith("px") and editor["height"].endswith("px")


def test_every_forge_macro_configures_with_the_picker_resource():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    resources = {r["key"]: r["path"] for r in manifest["resources"]}
    for macro in manifest["modules"]["macro"]:
        config = macro["config"]
        assert config["title"]
        shell = (ROOT / resources[config["resource"]] / "index.html").read_text()
        assert 'src="app.js"' in shell and 'href="picker.css"' in shell and "http" not in shell
    assert "http" not in (ROOT / resources["macro-config"] / "picker.css").read_text()
