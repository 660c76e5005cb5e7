"""`flask keys create|list|revoke|rotate`: manage named API keys.

A named key belongs to a tenant: the reminders it creates are owned by its NAME and no other
named key sees them (the admin key in .env sees all). Only a SHA-256 hash of a key is stored;
the key itself is printed once, on stdout, so `KEY=$(flask keys create phone)` captures it.
"""
import re
import secrets

import click
from flask.cli import AppGroup

from app.auth import KEY_PREFIX, hash_key
from app.extensions import db
from app.models import ADMIN_OWNER, ApiKey
from app.timeutil import iso, to_db, utcnow

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Characters of a key shown by `keys list` to tell keys apart ("tt_" plus 4 of its 43 random ones).
SHOWN_PREFIX = len(KEY_PREFIX) + 4

keys = AppGroup("keys", help="Manage API keys (the admin key lives in .env as API_KEY).")


def new_key():
    """A fresh key: the recognisable prefix and 32 random bytes (URL-safe base64)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def find(name):
    """The ApiKey row named NAME, or None."""
    return db.session.execute(db.select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none()


def find_or_fail(name, hint=""):
    """The ApiKey row named NAME; a CLI error when there is none."""
    row = find(name)
    if row is None:
        raise click.ClickException(f"no key named {name!r}{hint}")
    return row


def announce(key, message):
    """Print the key alone on stdout (for scripts) and the note for a person on stderr."""
    click.echo(key)
    click.echo(f"{message} It is shown only now: store it safely.", err=True)


@keys.command("create")
@click.argument("name")
def create_key(name):
    """Create a key for NAME and print it once."""
    if not NAME_PATTERN.fullmatch(name) or name.lower() == ADMIN_OWNER:
        raise click.ClickException("NAME must be 1-64 letters, digits, '-' or '_', and not 'admin'")
    existing = find(name)
    if existing is not None:
        if existing.revoked_at is not None:
            raise click.ClickException(
                f"the key named {name!r} was revoked; `flask keys rotate {name}` gives {name!r} a new key"
                " (and its reminders back), or pick another name"
            )
        raise click.ClickException(f"a key named {name!r} exists; `flask keys rotate {name}` replaces it")
    key = new_key()
    db.session.add(ApiKey(name=name, prefix=key[:SHOWN_PREFIX], key_hash=hash_key(key)))
    db.session.commit()
    announce(key, f"Key {name!r} created.")


@keys.command("list")
def list_keys():
    """List keys: name, first characters, created, state (never a key or its hash)."""
    rows = list(db.session.execute(db.select(ApiKey).order_by(ApiKey.name)).scalars())
    if not rows:
        click.echo("No named keys yet: `flask keys create NAME` makes one.", err=True)
        return
    click.echo("name\tkey\tcreated\tstate")
    for row in rows:
        state = f"revoked {iso(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(f"{row.name}\t{row.prefix}…\t{iso(row.created_at)}\t{state}")


@keys.command("revoke")
@click.argument("name")
def revoke_key(name):
    """Revoke NAME's key: it gets 401 from the next request on (its reminders keep running)."""
    row = find_or_fail(name)
    if row.revoked_at is not None:
        click.echo(f"Key {name!r} was already revoked.")
        return
    row.revoked_at = to_db(utcnow())
    db.session.commit()
    click.echo(f"Key {name!r} revoked.")


@keys.command("rotate")
@click.argument("name")
def rotate_key(name):
    """Give NAME a new key (printed once); the old one gets 401 at once. NAME keeps its reminders."""
    row = find_or_fail(name, f"; `flask keys create {name}` makes one")
    key = new_key()
    row.key_hash = hash_key(key)
    row.prefix = key[:SHOWN_PREFIX]
    row.revoked_at = None
    row.created_at = to_db(utcnow())
    db.session.commit()
    announce(key, f"Key {name!r} replaced: the old one no longer works.")


def register(app):
    """Attach the CLI groups to the app."""
    app.cli.add_command(keys)
