"""The web app's settings, from the environment (docs/design.md, "Web")."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from mall_shared.config import data_dir, flag


@dataclass(frozen=True)
class WebSettings:
    api_url: str            # the gateway: the web app is a client of the public API like any other
    secret_key: str         # signs the session cookie and derives the key that encrypts the tokens in it
    secure_cookies: bool    # behind HTTPS: the session cookie is sent over HTTPS only
    sandbox: bool           # offer the sandbox providers' "pay" buttons (MALL_SANDBOX)
    api_timeout: float

    @classmethod
    def load(cls) -> WebSettings:
        env = os.environ.get
        port = env("MALL_GATEWAY_PORT") or "8080"
        return cls(
            api_url=(env("MALL_WEB_API_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
            secret_key=env("MALL_WEB_SECRET_KEY") or _dev_secret(data_dir() / "keys" / "web_secret"),
            secure_cookies=flag("MALL_WEB_SECURE_COOKIES"),
            sandbox=flag("MALL_SANDBOX"),
            api_timeout=float(env("MALL_WEB_API_TIMEOUT") or 10),
        )


def _dev_secret(path: Path) -> str:
    """A development secret kept beside the dev JWT keys, created once and shared by every web
    process on this machine (set MALL_WEB_SECRET_KEY in production)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside and linked into place: a second process never reads a half-written file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
