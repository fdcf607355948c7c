"""Insert-once on a unique constraint, race-safe on PostgreSQL and SQLite, in the caller's transaction.

`INSERT ... ON CONFLICT DO NOTHING` waits for a concurrent inserter of the same key to commit or
roll back, so exactly one of any number of racing transactions creates the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from addon.extensions import db


def insert_once(model, values: dict, unique_columns: tuple[str, ...]) -> tuple[int, bool]:
    """Insert `values` unless a row with the same unique columns exists: (row id, created?)."""
    session = db.session
    dialect = session.get_bind().dialect.name
    table = model.__table__
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"insert_once does not support {dialect}")
    statement = statement.values(**values).on_conflict_do_nothing(index_elements=list(unique_columns))
    new_id = session.execute(statement.returning(table.c.id)).scalar_one_or_none()
    if new_id is not None:
        return new_id, True
    condition = sa.and_(*(table.c[name] == values[name] for name in unique_columns))
    existing_id = session.execute(sa.select(table.c.id).where(condition)).scalar_one_or_none()
    if existing_id is None:  # pragma: no cover - the conflicting row vanished between statements
        raise RuntimeError(f"{table.name}: conflicting row disappeared; retry the transaction")
    return existing_id, False


def insert_many_once(model, rows: list[dict], unique_columns: tuple[str, ...], chunk: int = 500) -> set[tuple]:
    """Insert each of `rows` unless a row with the same unique columns exists, in as few statements as the
    chunk size allows; returns the unique-column values of the rows created here (not of those that existed)."""
    if not rows:
        return set()
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"insert_many_once does not support {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    created: set[tuple] = set()
    for start in range(0, len(rows), chunk):
        statement = (
            insert(table)
            .values(rows[start : start + chunk])
            .on_conflict_do_nothing(index_elements=list(unique_columns))
            .returning(*(table.c[name] for name in unique_columns))
        )
        created.update(tuple(row) for row in db.session.execute(statement))
    return created
