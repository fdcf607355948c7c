"""Settings: defaults, validation messages that say what to do, audit of every change."""

from addon.extensions import db
from addon.platform.models import AuditEntry, tenant_query
from addon.settings.service import get_settings, update_settings
from tests.fixtures.tenants import make_tenant


def test_defaults_before_anything_is_saved(app):
    settings = get_settings(make_tenant())
    assert settings.macro_freshness_seconds == 300
    assert settings.page_set_children == [
        "Manuscript brief",
        "Schedule & dates",
        "Key contacts",
        "Meeting notes",
        "Decision log",
    ]
    assert settings.acquired_stages == []


def test_valid_change_is_saved_and_audited(app):
    tenant = make_tenant()
    settings, errors = update_settings(
        tenant, {"consonance_host": "https://web.consonance.app", "summary_weekly_time": "08:30"}, actor="557058:admin"
    )
    assert errors == {}
    assert get_settings(tenant).consonance_host == "https://web.consonance.app"
    audit = db.session.execute(tenant_query(AuditEntry, tenant)).scalars().one()
    assert audit.action == "settings_changed" and audit.actor == "557058:admin"
    assert audit.detail["fields"] == ["consonance_host", "summary_weekly_time"]


def test_invalid_values_are_refused_with_what_to_do(app):
    tenant = make_tenant()
    settings, errors = update_settings(
        tenant,
        {
            "consonance_host": "not a url",
            "summary_weekly_time": "25:00",
            "summary_timezone": "Mars/Olympus",
            "macro_freshness_seconds": 1,
            "summary_monthly_day": 31,
            "rights_mappings": [{"territory": "GB", "page_id": "abc"}],
        },
        actor="a",
    )
    assert settings is None
    assert "https://web.consonance.app" in errors["consonance_host"][0]
    assert "HH:MM" in errors["summary_weekly_time"][0]
    assert "time zone" in errors["summary_timezone"][0]
    assert "30 seconds" in errors["macro_freshness_seconds"][0]
    assert "1 to 28" in errors["summary_monthly_day"][0]
    assert "guidance page" in str(errors["rights_mappings"])
    assert get_settings(tenant).consonance_host == ""  # nothing half-saved
