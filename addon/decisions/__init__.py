"""Editorial decisions recorded in Confluence and delivered to Consonance."""
