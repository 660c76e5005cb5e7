"""Fuzzing: Schemathesis drives every operation of /openapi.json over WSGI, authenticated as the admin.

No response may be a 5xx, and every response must match the documented status codes, content
types, headers and schemas. The run is bounded (examples per operation, no example database,
derandomized) so it is the same, and as fast, on every run.
"""
import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app import create_app
from app.extensions import db
from tests.conftest import ADMIN_KEY, make_config

AUTH = {"X-API-Key": ADMIN_KEY}
# Schemathesis makes one test per operation when the module is collected, so the app exists by then;
# its database is created (and removed) by the fixture below. A generous rate limit: fuzzing is not throttled.
WORKDIR = Path(tempfile.mkdtemp(prefix="tifftock-fuzz-"))
atexit.register(shutil.rmtree, WORKDIR, True)
APP = create_app(make_config(WORKDIR, RATELIMIT_DEFAULT="1000000 per minute"))
# Not checked: that every schema-valid request is accepted. A reminder needs exactly one of when,
# every, cron, rrule; a cursor must come from a Link header; a duration must parse: rules beyond
# what OpenAPI 3.0 can say, answered with a documented 422 naming the fields.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def fuzz_database():
    """The app's schema on its own SQLite file for the whole run."""
    with APP.app_context():
        db.create_all()
    yield
    with APP.app_context():
        db.session.remove()
        db.engine.dispose()


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_its_documentation(case):
    case.call_and_validate(headers=AUTH)
