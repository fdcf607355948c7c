"""Flask extensions, created unbound and attached in `create_app` with `init_app`."""

from typing import TYPE_CHECKING

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()

# The base class of our models. mypy cannot see `db.Model` (an attribute made at run time) as a class
# (python/mypy#8603), so it checks models against SQLAlchemy's typed declarative base, which declares the
# same mapping (`Mapped` columns, `__tablename__`, keyword constructor); at run time it is `db.Model`.
if TYPE_CHECKING:
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase):
        pass

else:
    Model = db.Model
