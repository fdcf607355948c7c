"""Pure publishing domain: titles, formats, rights, readiness and rules, with no I/O."""
