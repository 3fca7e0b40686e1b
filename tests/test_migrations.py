"""Each service's Alembic migrations build exactly the schema its models declare, on PostgreSQL."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from mall_shared.config import SERVICES
from mall_shared.testing import migrated_database


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service):
    metadata = importlib.import_module(f"{service}.models").Base.metadata
    with migrated_database(service) as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        engine.dispose()
    assert diff == []
