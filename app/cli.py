"""`flask keys create|list|revoke`: manage named API keys."""
import secrets

import click
from flask.cli import AppGroup

from app.auth import KEY_PREFIX, hash_key
from app.extensions import db
from app.models import ADMIN_OWNER, ApiKey
from app.timeutil import iso, to_db, utcnow

keys = AppGroup("keys", help="Manage API keys (the admin key lives in .env as API_KEY).")


@keys.command("create")
@click.argument("name")
def create_key(name):
    """Create a key for NAME and print it once."""
    if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 64 or name == ADMIN_OWNER:
        raise click.ClickException("NAME must be 1-64 letters, digits, '-' or '_', and not 'admin'")
    if db.session.execute(db.select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none():
        raise click.ClickException(f"a key named {name!r} exists; revoke it or pick another name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiKey(name=name, prefix=key[:7], key_hash=hash_key(key)))
    db.session.commit()
    click.echo(key)
    click.echo(f"Key {name!r} created. It is shown only now: store it safely.", err=True)


@keys.command("list")
def list_keys():
    """List keys: name, prefix, created, revoked."""
    rows = db.session.execute(db.select(ApiKey).order_by(ApiKey.name)).scalars()
    for row in rows:
        state = f"revoked {iso(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(f"{row.name}\t{row.prefix}…\tcreated {iso(row.created_at)}\t{state}")


@keys.command("revoke")
@click.argument("name")
def revoke_key(name):
    """Revoke NAME's key: it gets 401 from the next request on."""
    row = db.session.execute(db.select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none()
    if row is None:
        raise click.ClickException(f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = to_db(utcnow())
        db.session.commit()
    click.echo(f"Key {name!r} revoked.")


def register(app):
    """Attach the CLI groups to the app."""
    app.cli.add_command(keys)
