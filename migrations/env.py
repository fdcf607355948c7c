"""Alembic environment: runs inside the Flask app so migrations use its database URL.

`render_as_batch` lets ALTER TABLE migrations run on SQLite as well as PostgreSQL.
"""

import logging

from alembic import context
from flask import current_app

config = context.config
log = logging.getLogger("alembic.env")
db = current_app.extensions["migrate"].db


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url), target_metadata=db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(ctx, revision, directives):
        """Autogenerate writes no file when nothing changed."""
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=True,
            compare_type=True,
            process_revision_directives=skip_empty,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
