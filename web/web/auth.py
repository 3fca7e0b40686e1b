"""Log in, register, log out, the language switch, and the guards every page uses."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from . import api
from . import session as web_session
from .i18n import LANGS, gettext

bp = Blueprint("auth", __name__)


def login_redirect():
    """To the login page, and back to this page after it (a form's page, for a form's POST)."""
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return redirect(url_for("auth.login", next=back or None))


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if web_session.user() is None:
            return login_redirect()
        return view(*args, **kwargs)
    return wrapper


def staff_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page; customers get a 403 page."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if web_session.user() is None:
            return login_redirect()
        if not web_session.is_staff():
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def attempt(action: Callable, done: str | None = None) -> bool:
    """Run an API call for a form; its refusal becomes a readable message on the next page."""
    try:
        action()
    except api.ApiError as exc:
        flash(exc.readable(), "error")
        return False
    if done:
        flash(done, "ok")
    return True


def safe_next(default: str) -> str:
    """Where to go after a form: a path on this site only (never an open redirect)."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and not parts.scheme \
            and not parts.netloc:
        return target
    return default


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        who = request.form.get("login", "").strip()
        body = {"mobile" if who.isdigit() else "email": who, "password": request.form.get("password", "")}
        try:
            token = api.call("POST", "/api/auth/login", json=body, auth=False)
            _start(token)
        except api.ApiError as exc:
            flash(exc.readable(), "error")
            return render_template("login.html", login=who), 400 if exc.status < 500 else exc.status
        home = url_for("admin.dashboard") if web_session.is_staff() else url_for("shop.home")
        return redirect(safe_next(home))
    return render_template("login.html", login="")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = request.form
    if request.method == "POST":
        who = form.get("login", "").strip()
        body = {"mobile" if who.isdigit() else "email": who, "password": form.get("password", ""),
                "name": form.get("name", "").strip()}
        try:
            api.call("POST", "/api/auth/register", json=body, auth=False)
            _start(api.call("POST", "/api/auth/login", json={k: body[k] for k in body if k != "name"}, auth=False))
        except api.ApiError as exc:
            flash(exc.readable(), "error")
            return render_template("register.html", form=form), 400 if exc.status < 500 else exc.status
        flash(gettext("Welcome to the mall!"), "ok")
        return redirect(safe_next(url_for("shop.home")))
    return render_template("register.html", form=form)


def _start(token: dict) -> None:
    web_session.begin(token)
    web_session.set_user(api.get("/api/auth/me"))


@bp.post("/logout")
def logout():
    refresh = web_session.tokens().get("refresh")
    if refresh:
        try:
            api.call("POST", "/api/auth/logout", json={"refresh_token": refresh}, auth=False)
        except api.ApiError:
            pass  # the session ends here either way; the refresh token expires on its own
    web_session.log_out()
    return redirect(url_for("shop.home"))


@bp.post("/lang")
def set_lang():
    chosen = request.form.get("lang")
    if chosen in LANGS:
        session["lang"] = chosen
    return redirect(safe_next(url_for("shop.home")))
