"""Which Confluence pages belong to which Consonance title, and in what role."""
