"""The payment web process: `gunicorn "payment.app:create_app()"`."""
from flask import Flask

from mall_shared.api import create_service_app

from .api import blueprints
from .config import config as payment_config
from .models import Base


def create_app(config: dict | None = None) -> Flask:
    app = create_service_app("payment", Base.metadata, blueprints, config)
    settings = payment_config()
    if settings.sandbox:
        from . import sandbox  # the sandbox's keys exist only in sandbox mode

        sandbox.ensure_keys(settings)
    app.extensions["payment_config"] = settings
    return app
