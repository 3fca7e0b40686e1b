import uuid

import pytest

from crm.app import create_app
from mall_shared.testing import migrated_database

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@crm.test", "admin-pass-2026"


@pytest.fixture(scope="session")
def database_url():
    with migrated_database("crm") as url:
        yield url


@pytest.fixture(scope="session")
def app_config(keys, database_url) -> dict:
    return {"DATABASE_URL": database_url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True,
            "CRM_JWT_PRIVATE_KEY": keys.private, "MALL_ADMIN_EMAIL": ADMIN_EMAIL,
            "MALL_ADMIN_PASSWORD": ADMIN_PASSWORD}


@pytest.fixture(scope="session")
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["mall_db"].dispose()


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def login(client, password: str, **ident) -> dict:
    res = client.post("/api/auth/login", json={"password": password, **ident})
    assert res.status_code == 200, res.json
    return res.json


@pytest.fixture
def register(client):
    """Register a customer and log in: returns (profile, bearer headers, tokens)."""

    def _register(name: str = "Alice", password: str = "secret123", **ident):
        ident = ident or {"email": unique_email(name.lower())}
        res = client.post("/api/auth/register", json={"name": name, "password": password, **ident})
        assert res.status_code == 201, res.json
        tokens = login(client, password, **ident)
        return res.json, {"Authorization": f"Bearer {tokens['access_token']}"}, tokens

    return _register


@pytest.fixture
def admin(client) -> dict:
    tokens = login(client, ADMIN_PASSWORD, email=ADMIN_EMAIL)
    return {"Authorization": f"Bearer {tokens['access_token']}"}
