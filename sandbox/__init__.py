"""Local stand-ins for Consonance and Confluence Cloud. The product (addon/) never imports this."""
