"""Unbound extension objects; `create_app` binds them to an app."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from app import sqlite_setup  # noqa: F401  (registers the SQLite connection pragmas)
from app.security.limits import make_limiter
from app.security.openapi import DocumentedApi


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


# Objects stay loaded after commit: the response is built from them without re-reading every row.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
api = DocumentedApi()
limiter = make_limiter()
