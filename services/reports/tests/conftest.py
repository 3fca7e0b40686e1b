import pytest

from mall_shared.testing import migrated_database
from reports.app import create_app


@pytest.fixture(scope="session")
def app(keys):
    with migrated_database("reports") as url:
        app = create_app({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public, "TESTING": True})
        yield app
        app.extensions["mall_db"].dispose()
