"""The Connect descriptor served at /atlassian-connect.json."""

MACRO_KEYS = {"title-status", "rights-link", "metadata-checklist", "launch-readiness"}


def test_descriptor_carries_this_deployment_and_the_security_migrations(client):
    descriptor = client.get("/atlassian-connect.json").get_json()
    assert descriptor["baseUrl"] == "https://addon.example.test"
    assert descriptor["key"] == "com.consonance.confluence"
    assert descriptor["authentication"] == {"type": "jwt"}
    assert descriptor["apiMigrations"]["signed-install"] is True
    assert descriptor["apiMigrations"]["context-qsh"] is True
    assert descriptor["lifecycle"]["installed"] == "/connect/installed"
    assert descriptor["lifecycle"]["uninstalled"] == "/connect/uninstalled"


def test_macros_are_dynamic_content_macros_with_static_export(client, app):
    macros = client.get("/atlassian-connect.json").get_json()["modules"]["dynamicContentMacros"]
    assert {m["key"] for m in macros} == MACRO_KEYS
    for macro in macros:
        assert macro["url"].startswith(f"/connect/macro/{macro['key']}?")
        assert "{page.id}" in macro["url"] and "{macro.id}" in macro["url"]
        assert macro["renderModes"]["pdf"]["url"].startswith(f"/connect/macro-static/{macro['key']}?")
        assert "word" in macro["renderModes"]
        assert [p["identifier"] for p in macro["parameters"]] == ["title"]


def test_lifecycle_routes_exist(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for path in ("/connect/installed", "/connect/uninstalled", "/connect/enabled", "/connect/disabled"):
        assert path in rules
