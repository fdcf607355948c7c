"""The settings an admin can change, their defaults, and the messages when a value is wrong.

Every message says what to do, in the admin's words, because the admin page shows it as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

CHILD_PAGES = ("Manuscript brief", "Schedule & dates", "Key contacts", "Meeting notes", "Decision log")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SPACE_KEY = re.compile(r"^[A-Za-z0-9]{1,255}$")


class RightsMappingSchema(Schema):
    """A rule choosing a rights guidance page: any of territory, right type, contract type may be blank."""

    class Meta:
        unknown = EXCLUDE

    territory = fields.String(load_default="", validate=validate.Length(max=64))
    right_type = fields.String(load_default="", validate=validate.Length(max=128))
    contract_type = fields.String(load_default="", validate=validate.Length(max=128))
    page_id = fields.String(
        required=True, validate=validate.Regexp(r"^\d{1,20}$", error="Choose a guidance page from the list.")
    )
    label = fields.String(load_default="", validate=validate.Length(max=200))


STAGE_APPROVERS = ("page_editors", "site_admins")


class SettingsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    consonance_host = fields.String(load_default="", validate=validate.Length(max=500))
    page_set_mode = fields.String(
        load_default="pages_in_space",
        validate=validate.OneOf(
            ("pages_in_space", "space_per_title"), error="Choose either one space for all titles or a space per title."
        ),
    )
    page_set_space_key = fields.String(load_default="", validate=validate.Length(max=255))
    page_set_parent_id = fields.String(load_default="")
    page_set_children = fields.List(
        fields.String(validate=validate.OneOf(CHILD_PAGES)), load_default=lambda: list(CHILD_PAGES)
    )
    acquired_stages = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    stage_guide_page_id = fields.String(load_default="")
    # Who may approve a stage move from a title panel (everyone deciding needs permission to edit the page).
    stage_approvers = fields.String(
        load_default="page_editors",
        validate=validate.OneOf(
            STAGE_APPROVERS, error="Choose who may approve a stage move: page editors or site admins only."
        ),
    )
    rights_mappings = fields.List(fields.Nested(RightsMappingSchema), load_default=list)
    standards_page_id = fields.String(load_default="")
    playbook_page_ids = fields.List(fields.String(), load_default=list)
    lessons_index_page_id = fields.String(load_default="")
    launch_hub_mode = fields.String(
        load_default="per_season",
        validate=validate.OneOf(("per_season", "per_title"), error="Choose a launch hub per season or per title."),
    )
    launch_hub_parent_id = fields.String(load_default="")
    summary_parent_id = fields.String(load_default="")
    summary_weekly_day = fields.String(
        load_default="monday", validate=validate.OneOf(WEEKDAYS, error="Choose a day of the week.")
    )
    summary_weekly_time = fields.String(load_default="07:00")
    summary_monthly_day = fields.Integer(
        load_default=1, validate=validate.Range(1, 28, error="Choose a day from 1 to 28 (every month has it).")
    )
    summary_timezone = fields.String(load_default="Europe/London")
    # weeks before publication by which a title should have reached each stage (release risk "late for
    # its stage"); stages left out keep the defaults in docs/publishing-rules.md, 0 switches one off
    stage_deadline_weeks = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.Integer(validate=validate.Range(0, 104, error="Choose between 0 and 104 weeks.")),
        load_default=dict,
    )
    macro_freshness_seconds = fields.Integer(
        load_default=300,
        validate=validate.Range(30, 86400, error="Choose a freshness window between 30 seconds and a day."),
    )
    poll_interval_seconds = fields.Integer(  # None: the deployment's POLL_INTERVAL_SECONDS
        load_default=None,
        allow_none=True,
        validate=validate.Range(60, 86400, error="Choose a polling interval between 1 minute and a day."),
    )

    # What the tenant's Consonance offers, as found by capability discovery (addon/consonance/capabilities.py);
    # written by the app, never by the form.
    consonance_capabilities = fields.Dict(load_default=dict)

    @validates("consonance_host")
    def _host(self, value, **_):
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
                raise ValidationError("Enter the address you use for Consonance, e.g. https://web.consonance.app")

    @validates("summary_weekly_time")
    def _time(self, value, **_):
        if not _TIME.match(value):
            raise ValidationError("Enter a time as HH:MM on the 24-hour clock, e.g. 07:30.")

    @validates("summary_timezone")
    def _zone(self, value, **_):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("Choose a time zone from the list, e.g. Europe/London.") from None

    @validates("page_set_space_key")
    def _space(self, value, **_):
        if value and not _SPACE_KEY.match(value):
            raise ValidationError("Choose a space from the list.")


@dataclass(frozen=True)
class Settings:
    """A tenant's settings with defaults applied; read-only, so flows can pass it around."""

    values: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


SCHEMA = SettingsSchema()


def with_defaults(values: dict | None) -> Settings:
    """Stored values (already validated) merged over the defaults; unknown keys dropped."""
    return Settings(SCHEMA.load(values or {}))
