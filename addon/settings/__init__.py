"""Per-tenant configuration: what the admin sets on the configuration page."""
