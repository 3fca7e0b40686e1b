"""Fixtures every test folder shares. Service folders add their own app and database fixtures."""
import os
import tempfile

import pytest

# Settings.load() reads MALL_DATA_DIR: keep anything a test writes out of the work tree.
os.environ.setdefault("MALL_DATA_DIR", tempfile.mkdtemp(prefix="mall-test-"))

from mall_shared.testing import Keys  # noqa: E402


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def client(app):
    """The `app` fixture comes from the service's own conftest."""
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["mall_db"]


@pytest.fixture
def staff(keys) -> dict:
    return keys.headers(role="staff")
