"""The crm web process: `gunicorn "crm.app:create_app()"`."""
import logging
import os

from flask import Flask

from mall_shared.api import create_service_app

from . import accounts, api, api_reviews, api_tickets
from .config import CrmConfig
from .models import Base

log = logging.getLogger(__name__)
BLUEPRINTS = [*api.blueprints, api_tickets.blp, api_reviews.blp]


def create_app(config: dict | None = None) -> Flask:
    """The app; `config` may override crm's settings by their environment names (tests)."""
    config = config or {}
    overrides = {k: str(v) for k, v in config.items() if k.startswith(("CRM_", "MALL_ADMIN_"))}
    crm = CrmConfig.load({**os.environ, **overrides})
    app = create_service_app("crm", Base.metadata, BLUEPRINTS, config)
    app.extensions["crm_config"] = crm
    app.extensions["crm_signer"] = accounts.Signer(crm.jwt_private_key(), crm.access_token_ttl, crm.refresh_token_ttl)
    with app.extensions["mall_db"].transaction() as session:
        if accounts.ensure_admin(session, crm.admin_email, crm.admin_password):
            log.info("created the first admin %s", crm.admin_email)
    return app
