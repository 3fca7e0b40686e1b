"""The web app: `gunicorn "web.app:create_app()"` (port 8007), reached through the gateway at `/`
(storefront) and `/admin/` (admin console). Server-rendered pages; every page's data comes
from the public API (web/api.py), never from a database."""
from __future__ import annotations

import logging
import time

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from mall_shared import logs, metrics

from . import admin, admin_catalog, admin_orders, auth, shop, shop_account, shop_orders
from . import session as web_session
from .api import ApiError, LoginRequired
from .config import WebSettings
from .i18n import gettext, label, lang, when, yuan

# Scripts and styles from this origin only (htmx is vendored); product images may be any https URL.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")


def create_app(settings: WebSettings | None = None) -> Flask:
    logs.setup("web")
    settings = settings or WebSettings.load()
    app = Flask(__name__)
    metrics.init_app(app, "web")  # /metrics on its own port, as every web process (not via the gateway)
    app.extensions["web_settings"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="mall_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it is bound to
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    CSRFProtect(app)
    for module in (auth, shop, shop_orders, shop_account, admin, admin_catalog, admin_orders):
        app.register_blueprint(module.bp)
    app.jinja_env.globals.update(_=gettext, label=label, lang=lang, current_user=web_session.user,
                                 is_staff=web_session.is_staff, sandbox=settings.sandbox)
    app.jinja_env.filters.update(yuan=yuan, when=when)

    @app.before_request
    def _started():
        g.started = time.perf_counter()

    @app.after_request
    def _security_headers(response):
        # How long the page took here, API calls included (bench/web_pages.py reads it).
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.get('started', 0)) * 1000:.1f}"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"  # pages carry the user's data
        return response

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": "web"}

    @app.errorhandler(LoginRequired)
    def _login(_exc):
        return auth.login_redirect()

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        status = exc.status if 400 <= exc.status < 600 else 502
        return render_template("error.html", status=status, message=exc.readable()), status

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        message = gettext("The form has expired or did not come from this site. Go back, reload and try again.")
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return render_template("error.html", status=exc.code, message=gettext(exc.name)), exc.code

    @app.errorhandler(Exception)
    def _unexpected(_exc):
        logging.getLogger(__name__).exception("unhandled error")
        return render_template("error.html", status=500, message=gettext("Something went wrong on our side.")), 500

    return app
