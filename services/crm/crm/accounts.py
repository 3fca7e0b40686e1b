"""Accounts and tokens: registration, login with a lock after repeated failures, refresh-token
rotation, logout, staff creation and the first admin. No Flask, no commit."""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mall_shared.api import Conflict, DomainError, NotFound, Unauthorized
from mall_shared.auth import AUDIENCE, ISSUER, Identity
from mall_shared.db import new_id, utcnow
from mall_shared.events import CustomerRegistered
from mall_shared.outbox import emit

from . import revocation
from .config import CrmConfig
from .models import Account, LoginThrottle, RefreshToken

hasher = PasswordHasher()  # argon2id, memory-hard (64 MiB, 3 passes by default)


class AccountExists(Conflict):
    code, message = "account_exists", "An account with this email or mobile already exists"


class InvalidCredentials(Unauthorized):
    code, message = "invalid_credentials", "Wrong login or password"


class TooManyAttempts(DomainError):
    status, code, message = 429, "too_many_attempts", "Too many failed logins; try again later"


class InvalidRefreshToken(Unauthorized):
    code, message = "invalid_refresh_token", "The refresh token is invalid, expired or already used"


class AccountNotFound(NotFound):
    code, message = "account_not_found", "Account not found"


@functools.cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_hex(16))


def check_password(password_hash: str | None, password: str) -> bool:
    """Verify in constant work: an unknown account costs the same hash as a known one."""
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Signer:
    """What issuing tokens needs: crm's private key and the lifetimes."""
    private_key: str
    access_ttl: int
    refresh_ttl: int

    def access_token(self, account: Account, sid: str) -> str:
        """`jti` names this token and `sid` the login it belongs to: either can be revoked."""
        now = utcnow()
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": account.id, "role": account.role, "typ": "access",
                  "email": account.email, "name": account.name, "iat": now,
                  "exp": now + timedelta(seconds=self.access_ttl), "jti": new_id(), "sid": sid}
        return jwt.encode(claims, self.private_key, algorithm="RS256")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _login_key(email: str | None, mobile: str | None, client: str) -> str:
    login = f"email:{email.lower()}" if email else f"mobile:{mobile}"
    return _digest(f"{login}\n{client}")


def login_taken(session: Session, email: str | None, mobile: str | None, exclude: str | None = None) -> bool:
    conds = [c for c in (Account.email == email if email else None, Account.mobile == mobile if mobile else None)
             if c is not None]
    stmt = select(Account.id).where(or_(*conds))
    if exclude:
        stmt = stmt.where(Account.id != exclude)
    return session.scalar(stmt) is not None


def create_account(session: Session, name: str, password: str, email: str | None = None,
                   mobile: str | None = None, role: str = "customer") -> Account:
    """An account with a unique email and/or mobile; the password is stored only as its hash."""
    email = email.lower() if email else None
    if login_taken(session, email, mobile):
        raise AccountExists()
    account = Account(name=name, email=email, mobile=mobile, role=role, password_hash=hasher.hash(password))
    try:
        with session.begin_nested():  # two registrations at once: the unique index decides
            session.add(account)
    except IntegrityError as exc:
        raise AccountExists() from exc
    return account


def register_customer(session: Session, name: str, password: str, email: str | None = None,
                      mobile: str | None = None) -> Account:
    """A customer signs up (CustomerRegistered)."""
    account = create_account(session, name, password, email, mobile)
    emit(session, CustomerRegistered(customer_id=account.id, name=account.name, email=account.email,
                                     mobile=account.mobile), correlation=account.id)
    return account


def _issue(session: Session, account: Account, signer: Signer, family: str | None = None) -> dict:
    refresh, family = secrets.token_urlsafe(32), family or new_id()
    session.add(RefreshToken(account_id=account.id, family=family, token_hash=_digest(refresh),
                             expires_at=utcnow() + timedelta(seconds=signer.refresh_ttl)))
    return {"access_token": signer.access_token(account, family), "token_type": "Bearer",
            "expires_in": signer.access_ttl, "refresh_token": refresh}


def login(session: Session, password: str, config: CrmConfig, signer: Signer,
          email: str | None = None, mobile: str | None = None, client: str = "") -> dict | DomainError:
    """Tokens for the right password. A failure is *returned*, not raised, so that the caller
    commits the failure count; the same error whether or not the account exists. Failures
    are counted per login and client, with a growing wait (see LoginThrottle)."""
    now = utcnow()
    key = _login_key(email, mobile, client)
    throttle = session.get(LoginThrottle, key, with_for_update=True)
    if throttle is not None and throttle.is_locked(now):
        wait = max(1, int((throttle.locked_until - now).total_seconds() + 0.999))
        return TooManyAttempts(details={"retry_after": wait})
    where = Account.email == email.lower() if email else Account.mobile == mobile
    account = session.scalar(select(Account).where(where))
    if not check_password(account.password_hash if account else None, password):
        if throttle is None:
            throttle = LoginThrottle(login=key, failures=0)
            try:
                with session.begin_nested():
                    session.add(throttle)
            except IntegrityError:  # a concurrent failure created it first
                throttle = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        throttle.record_failure(now, config.login_max_failures, config.login_lock_seconds)
        return InvalidCredentials()
    if throttle is not None:
        session.delete(throttle)
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return _issue(session, account, signer)


def refresh_tokens(session: Session, refresh_token: str, signer: Signer) -> dict | DomainError:
    """Rotate: the presented token is spent and a new pair issued. A spent token presented
    again means it leaked: every token of that login is revoked."""
    now = utcnow()
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token))
                            .with_for_update())
    if stored is None:
        raise InvalidRefreshToken()
    if not stored.usable(now):
        if stored.revoked_at is not None:
            revoke_family(session, stored.family, signer.access_ttl)
            return InvalidRefreshToken()
        raise InvalidRefreshToken()
    stored.revoked_at = now
    account = session.get(Account, stored.account_id)
    return _issue(session, account, signer, family=stored.family)


def revoke_family(session: Session, family: str, access_ttl: int) -> None:
    """A login ends: its refresh tokens, and the access tokens it minted (by their sid)."""
    revocation.revoke(session, [family], access_ttl)
    session.execute(update(RefreshToken).where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def logout(session: Session, refresh_token: str, access_ttl: int, presented: Identity | None = None) -> None:
    """Revoke the login the refresh token belongs to, and the access token presented with it;
    unknown tokens are ignored (idempotent)."""
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token)))
    if stored is not None:
        revoke_family(session, stored.family, access_ttl)
    if presented is not None:
        revocation.revoke(session, presented.token_ids, access_ttl)


def change_password(session: Session, account_id: str, current: str, new: str, access_ttl: int) -> None:
    """A new password, given the current one; every login ends, its access tokens with it."""
    account = get_account(session, account_id)
    if not check_password(account.password_hash, current):
        raise InvalidCredentials("The current password is wrong")
    account.password_hash = hasher.hash(new)
    revocation.revoke(session, revocation.live_logins(session, account.id), access_ttl)
    session.execute(update(RefreshToken).where(RefreshToken.account_id == account.id,
                                               RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountNotFound()
    return account


def ensure_admin(session: Session, email: str, password: str) -> bool:
    """The first admin from configuration; does nothing if that account exists. Several web
    workers start at once: the unique index lets exactly one insert win. True if created."""
    if not email or not password:
        return False
    if session.scalar(select(Account.id).where(Account.email == email.lower())):
        return False
    try:
        create_account(session, "Administrator", password, email=email, role="admin")
    except AccountExists:
        return False
    return True
