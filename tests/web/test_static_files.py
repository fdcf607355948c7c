"""Static bundles go out gzipped to browsers that accept gzip (the Custom UI bundle every Forge macro frame
loads is ~98 kB plain), plain to those that do not, with `Vary: Accept-Encoding` and an ETag that answers a
revalidation with 304."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"
BUNDLE = "/static/customui/app.js"


def test_a_browser_that_accepts_gzip_gets_the_bundle_gzipped(client):
    plain = (STATIC / "customui" / "app.js").read_bytes()
    answer = client.get(BUNDLE, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert int(answer.headers["Content-Length"]) == len(answer.data) < len(plain) / 2
    assert gzip.decompress(answer.data) == plain
    assert answer.headers["Cache-Control"].startswith("public, max-age=")


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br"])
def test_a_browser_that_does_not_gets_it_plain(client, accept):
    answer = client.get(BUNDLE, headers={"Accept-Encoding": accept} if accept else {})
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert answer.data == (STATIC / "customui" / "app.js").read_bytes()
    assert "Accept-Encoding" in answer.headers["Vary"]


def test_each_encoding_has_its_own_etag_and_a_revalidation_costs_no_body(client):
    zipped = client.get(BUNDLE, headers={"Accept-Encoding": "gzip"})
    plain = client.get(BUNDLE)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = client.get(BUNDLE, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = client.get(BUNDLE, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "gzip"


def test_a_changed_file_is_served_as_it_is_now(app, client, tmp_path):
    (tmp_path / "bundle.js").write_text("console.log('one');\n" * 100)
    app.static_folder = str(tmp_path)
    app.extensions.pop("addon.web.static_files", None)
    first = client.get("/static/bundle.js", headers={"Accept-Encoding": "gzip"})
    (tmp_path / "bundle.js").write_text("console.log('two');\n" * 120)
    second = client.get("/static/bundle.js", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(second.data).startswith(b"console.log('two')")
    assert first.headers["ETag"] != second.headers["ETag"]


@pytest.mark.parametrize("path", ["/static/../addon/config.py", "/static/customui/nope.js", "/static/customui/"])
def test_nothing_outside_the_static_folder_or_missing(client, path):
    assert client.get(path).status_code == 404


def test_small_files_are_sent_as_they_are(client):
    answer = client.get("/static/customui/index.html", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.data == (STATIC / "customui" / "index.html").read_bytes()
