"""The chaos tests start the whole platform (tests/e2e/harness.py) on PostgreSQL and RabbitMQ
servers of their own, which they kill and restart: `make chaos`."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def demo():
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
