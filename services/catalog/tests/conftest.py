import pytest

from catalog.app import create_app
from mall_shared.testing import migrated_database


@pytest.fixture(scope="session")
def app(keys):
    with migrated_database("catalog") as url:
        app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True})
        yield app
        app.extensions["catalog_views"].flush()  # before its database goes
        app.extensions["mall_db"].dispose()
