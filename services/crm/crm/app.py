"""The crm web process: `gunicorn "crm.app:create_app()"`."""
import logging
import os

from flask import Flask, request

from mall_shared.api import create_service_app

from . import accounts, api, api_reviews, api_tickets, revocation
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
    db = app.extensions["mall_db"]
    with db.transaction() as session:
        if accounts.ensure_admin(session, crm.admin_email, crm.admin_password):
            log.info("created the first admin %s", crm.admin_email)

    def token_revoked(token_ids) -> bool:
        with db.transaction() as session:
            return revocation.is_revoked(session, token_ids)

    app.extensions["mall_token_revoked"] = token_revoked

    @app.get("/internal/revoked-tokens")
    def revoked_tokens():
        """What the gateway polls to refuse revoked tokens (not routed by it: /api/ only)."""
        after = request.args.get("after", 0, type=int)
        with db.transaction() as session:
            rows = revocation.revoked_since(session, after)
            return {"items": [{"seq": r.seq, "token_id": r.token_id, "expires_at": r.expires_at.isoformat()}
                              for r in rows]}

    return app
