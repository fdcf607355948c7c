"""The tenant's metadata standards: the rule set every title is checked against (F5)."""
