"""The logistics web process: `gunicorn "logistics.app:create_app()"`."""
from flask import Flask

from mall_shared.api import create_service_app

from .api import blueprints
from .config import LogisticsConfig
from .models import Base


def create_app(config: dict | None = None) -> Flask:
    app = create_service_app("logistics", Base.metadata, blueprints, config)
    app.extensions["logistics_config"] = app.config.get("LOGISTICS_CONFIG") or LogisticsConfig.load()
    return app
