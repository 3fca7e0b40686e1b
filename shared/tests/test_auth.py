"""Token verification: a verified token is remembered until it expires, never past it."""
import pytest

from mall_shared import auth
from mall_shared.api import Unauthorized
from mall_shared.testing import eventually


def test_a_verified_token_is_remembered_until_it_expires(keys, monkeypatch):
    token = keys.token("c-1", ttl=3)
    assert auth.verify_token(token, keys.public).id == "c-1"
    with monkeypatch.context() as m:
        m.setattr(auth.jwt, "decode", lambda *a, **k: pytest.fail("verified twice"))
        assert auth.verify_token(token, keys.public).id == "c-1"

    def refused():
        try:
            auth.verify_token(token, keys.public)
        except Unauthorized as exc:
            return exc.code
        return None
    assert eventually(refused, timeout=15) == "token_expired"  # past its expiry: decoded again, refused


def test_a_forged_token_is_never_remembered(keys):
    forged = keys.token("c-2")[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            auth.verify_token(forged, keys.public)
