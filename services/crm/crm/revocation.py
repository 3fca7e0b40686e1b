"""Revoking access tokens before they expire (logout, password change, a leaked refresh token).

Access tokens are verified offline with crm's public key, so revoking one means telling every
verifier. Each token carries `jti` (itself) and `sid` (the login it came from: the refresh-token
family); crm records the revoked ids here, refuses them itself at once, and the gateway
fetches what is new every second (`GET /internal/revoked-tokens?after=<seq>`, not routed by the
gateway) and refuses them before any service sees them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mall_shared.db import conflict_insert, utcnow

from .models import RefreshToken, RevokedToken


def revoke(session: Session, token_ids: Iterable[str], access_ttl: int) -> None:
    """No access token with one of these ids (jti or sid) counts any more."""
    expires_at = utcnow() + timedelta(seconds=access_ttl + 60)  # + clock skew
    for token_id in {t for t in token_ids if t}:
        session.execute(conflict_insert(session, RevokedToken).values(token_id=token_id, expires_at=expires_at)
                        .on_conflict_do_nothing())


def live_logins(session: Session, account_id: str) -> list[str]:
    """The refresh-token families (sids) of an account that can still mint access tokens."""
    return list(session.scalars(select(RefreshToken.family).distinct().where(
        RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))))


def is_revoked(session: Session, token_ids: Iterable[str]) -> bool:
    ids = [t for t in token_ids if t]
    return bool(ids) and session.scalar(select(RevokedToken.seq).where(RevokedToken.token_id.in_(ids))
                                        .limit(1)) is not None


def revoked_since(session: Session, after: int, limit: int = 1000) -> list[RevokedToken]:
    """What was revoked after `seq` (and has not expired), oldest first."""
    return list(session.scalars(select(RevokedToken).where(RevokedToken.seq > after,
                                                           RevokedToken.expires_at > utcnow())
                                .order_by(RevokedToken.seq).limit(limit)))


def forget_expired(session: Session) -> None:
    """The worker's periodic job: an entry is useless once what it covers has expired."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= utcnow()))
