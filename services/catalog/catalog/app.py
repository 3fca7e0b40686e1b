"""The catalog web process: `gunicorn "catalog.app:create_app()"`."""
from flask import Flask

from mall_shared.api import create_service_app

from .api import blueprints
from .models import Base
from .views import ViewCounter


def create_app(config: dict | None = None) -> Flask:
    app = create_service_app("catalog", Base.metadata, blueprints, config)
    app.extensions["catalog_views"] = ViewCounter(app.extensions["mall_db"]).start()
    return app
