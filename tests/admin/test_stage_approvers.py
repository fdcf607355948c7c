"""The admin chooses who may approve a stage move from a title panel, on the configuration page."""

from __future__ import annotations

from addon.settings.service import get_settings


def test_page_editors_by_default_and_site_admins_when_chosen(client, forge, admin_tenant):
    assert get_settings(admin_tenant).stage_approvers == "page_editors"
    html = client.post("/forge/admin", json={}, headers=forge()).get_json()["html"]
    assert 'name="stage_approvers" data-name="stage_approvers" value="page_editors" checked' in html

    saved = client.post("/forge/admin/settings", json={"form": {"stage_approvers": "site_admins"}}, headers=forge())
    assert saved.status_code == 200, saved.get_json()
    assert get_settings(admin_tenant).stage_approvers == "site_admins"
    assert 'value="site_admins" checked' in saved.get_json()["html"]


def test_an_unknown_choice_is_refused_with_what_to_do(client, forge, admin_tenant):
    refused = client.post("/forge/admin/settings", json={"form": {"stage_approvers": "everyone"}}, headers=forge())
    assert refused.status_code == 422
    assert "page editors or site admins" in refused.get_json()["errors"]["stage_approvers"]
    assert get_settings(admin_tenant).stage_approvers == "page_editors"
