"""Who is logged in: the signed session cookie (HttpOnly, SameSite=Lax) holds the user's name and
role in clear and the API tokens encrypted (Fernet), so the tokens never reach page JS and
cannot be read from a stolen cookie's text either."""
from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session


def _fernet() -> Fernet:
    key = hashlib.sha256(b"mall-web-tokens:" + current_app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def begin(token: dict) -> None:
    """A fresh session for a new login: only the language and the cart carry over."""
    keep = {k: session[k] for k in ("lang", "cart") if k in session}
    session.clear()
    session.update(keep)
    store_tokens(token)


def set_user(me: dict) -> None:
    session["user"] = {"id": me["id"], "name": me.get("name") or "", "role": me.get("role") or "customer"}


def store_tokens(token: dict) -> None:
    pair = {"access": token["access_token"], "refresh": token.get("refresh_token")}
    session["tokens"] = _fernet().encrypt(json.dumps(pair).encode()).decode()


def tokens() -> dict:
    """{"access", "refresh"} of the logged-in user, or {} (also when the cookie cannot be decrypted)."""
    sealed = session.get("tokens")
    if not sealed:
        return {}
    try:
        return json.loads(_fernet().decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return {}


def log_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def user() -> dict | None:
    return session.get("user") if session.get("tokens") else None


def is_staff() -> bool:
    u = user()
    return bool(u and u["role"] in ("staff", "admin"))
