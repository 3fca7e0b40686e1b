"""The reports web process: `gunicorn "reports.app:create_app()"`."""
from flask import Flask

from mall_shared.api import create_service_app

from .api import blueprints
from .models import Base


def create_app(config: dict | None = None) -> Flask:
    return create_service_app("reports", Base.metadata, blueprints, config)
