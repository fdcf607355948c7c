"""Proof under load and faults: `make load` (many viewers while syncs run) and `make chaos` (workers killed,
Redis restarted, database connections dropped, both outside systems misbehaving), each ending in invariant
checks against the sandboxes' own records."""
