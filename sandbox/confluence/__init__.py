"""A local Confluence Cloud stand-in: REST subset, installs (Forge and Connect), page viewer, events.

It meets the app only over HTTP, as real Confluence does; it never imports `addon`.
"""
