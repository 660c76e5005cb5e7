"""TiffTock: the Flask application factory."""
from flask import Flask

from app.config import Config


def create_app(config: Config | None = None) -> Flask:
    """Build the API app from a settings object (from the environment when none is given)."""
    config = config or Config.from_env()
    problem = config.api_key_problem()
    if problem:
        raise RuntimeError(f"TiffTock will not start: {problem}")
    app = Flask(__name__, instance_relative_config=True)
    configure(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def configure(app, config):
    """Copy the settings into app.config and add flask-smorest's OpenAPI settings."""
    app.config.from_mapping(config.as_flask())
    app.config.update(
        API_TITLE="TiffTock",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        JSON_SORT_KEYS=False,
    )
    app.config["TIFFTOCK"] = config


def register_extensions(app):
    """Bind db, migrations, rate limits and log redaction, the API and the process registry."""
    from app.extensions import api, db, migrate
    from app.notify import install_notify
    from app.processes import ProcessRegistry
    from app.security import install_security

    db.init_app(app)
    install_security(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": _security_schemes()}, "security": [{"ApiKeyHeader": []}, {"BearerAuth": []}]})
    app.extensions["tifftock_processes"] = ProcessRegistry(app.config["TIFFTOCK"])
    install_notify()


def register_blueprints(app):
    """One blueprint per resource."""
    from app.extensions import api
    from app.compat.resources import blp as compat_blp
    from app.deliveries.resources import blp as deliveries_blp
    from app.meta.resources import blp as meta_blp
    from app.reminders.resources import blp as reminders_blp

    for blueprint in (reminders_blp, deliveries_blp, meta_blp, compat_blp):
        api.register_blueprint(blueprint)
    from app.auth import install_auth

    install_auth(app)


def register_error_handlers(app):
    """Every error answers JSON, never HTML or a traceback."""
    from app.errors import install_error_handlers

    install_error_handlers(app)


def register_commands(app):
    """Flask CLI commands (`flask keys …`)."""
    from app.cli import register

    register(app)


def _migrations_dir():
    from app.config import BASE_DIR

    return BASE_DIR / "migrations"


def _security_schemes():
    return {
        "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "BearerAuth": {"type": "http", "scheme": "bearer"},
    }
