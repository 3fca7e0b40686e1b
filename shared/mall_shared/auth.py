"""Verifying identities. crm alone signs tokens (RS256, its private key); every service and
the gateway verify them with the public key. A service never trusts a bare identity header."""
from __future__ import annotations

import argparse
import functools
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, g, request

from .api import Forbidden, Unauthorized

ISSUER = "mall/crm"
AUDIENCE = "mall"
ROLES = ("customer", "staff", "admin")  # each includes the powers of the ones before it


@dataclass(frozen=True)
class Identity:
    id: str
    role: str
    email: str | None = None
    name: str | None = None
    token_ids: tuple[str, ...] = ()  # the token's jti and sid: what revoking it names

    @property
    def is_staff(self) -> bool:
        return ROLES.index(self.role) >= ROLES.index("staff")


# Tokens already verified, until they expire: a client sends the same token with every request,
# and checking its RS256 signature again each time is most of what authentication costs.
_verified: dict[tuple[str, str], tuple[Identity, float]] = {}
_VERIFIED_MAX = 10_000


def verify_token(token: str, public_key: str) -> Identity:
    """Decode an access token; raise Unauthorized for a missing, forged or expired one."""
    hit = _verified.get((token, public_key))
    if hit is not None and hit[1] > time.time():
        return hit[0]
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid token", code="invalid_token") from exc
    if claims.get("typ") != "access" or claims["role"] not in ROLES:
        raise Unauthorized("Invalid token", code="invalid_token")
    identity = Identity(id=claims["sub"], role=claims["role"], email=claims.get("email"), name=claims.get("name"),
                        token_ids=tuple(str(claims[k]) for k in ("jti", "sid") if claims.get(k)))
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[(token, public_key)] = (identity, claims["exp"])
    return identity


class TokenRevoked(Unauthorized):
    code, message = "token_revoked", "Token revoked (logged out or password changed)"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'", code="invalid_token")
    return token.strip()


def current_identity() -> Identity | None:
    if "identity" not in g:
        token = bearer_token()
        g.identity = verify_token(token, current_app.extensions["mall_jwt_public_key"]) if token else None
        # A service that knows revoked tokens (crm, which revokes them) registers how to ask.
        is_revoked = current_app.extensions.get("mall_token_revoked")
        if g.identity is not None and is_revoked is not None and is_revoked(g.identity.token_ids):
            g.identity = None
            raise TokenRevoked()
    return g.identity


def require(role: str = "customer") -> Identity:
    """The caller's identity, which must hold `role` (or a higher one)."""
    identity = current_identity()
    if identity is None:
        raise Unauthorized()
    if ROLES.index(identity.role) < ROLES.index(role):
        raise Forbidden(f"Requires the {role} role")
    return identity


def requires(role: str = "customer"):
    """View decorator: check the caller's role before the body is even parsed (401/403 before 422).
    Put it above the blueprint's `arguments`/`response` decorators."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            require(role)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Write a fresh RSA key pair (for development and tests; production mounts its own)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def keys_main() -> None:
    """mall-keys DIR: create DIR/jwt_private.pem and DIR/jwt_public.pem unless they exist."""
    parser = argparse.ArgumentParser(description=keys_main.__doc__)
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    private, public = args.dir / "jwt_private.pem", args.dir / "jwt_public.pem"
    if private.exists() and public.exists():
        return
    generate_keypair(private, public)
    print(f"generated {private} and {public}")
