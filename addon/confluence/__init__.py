"""Confluence Cloud: the REST client (v2 and the v1 remainder), storage-format building and
parsing, and owned-region editing. Knows Confluence only; never imports Consonance code."""
