"""Checks on the repository itself: the compose file, the event catalog, the Procfile."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("catalog", "order", "payment", "crm", "logistics", "reports")


def test_docker_compose_file_is_valid_and_has_a_web_and_a_worker_per_service():
    if not shutil.which("docker-compose"):
        if os.environ.get("CI"):
            pytest.fail("docker-compose is not installed (.ci/run installs it)")
        pytest.skip("docker-compose not installed here (apt-get install docker-compose)")
    # The secrets compose requires (make compose-env writes real ones into .env).
    env = {**os.environ, "MALL_ADMIN_PASSWORD": "a", "MALL_POSTGRES_PASSWORD": "p", "MALL_RABBITMQ_PASSWORD": "r",
           **{f"MALL_BUS_PASSWORD_{s.upper()}": s for s in SERVICES}}
    subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, check=True, env=env)
    names = subprocess.run(["docker-compose", "config", "--services"], cwd=ROOT, check=True,
                           capture_output=True, text=True, env=env).stdout.split()
    for s in SERVICES:
        assert s in names and f"{s}-worker" in names
        assert (ROOT / "services" / s / "pyproject.toml").exists()
    assert (ROOT / "shared" / "Dockerfile").exists()  # one image recipe, SERVICE as a build arg
    assert {"gateway", "rabbitmq", "postgres"} <= set(names)


def test_the_event_catalog_in_docs_matches_the_code():
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_event_docs.py"), "--check"], check=True)


def test_the_procfile_starts_a_web_and_a_worker_per_service_the_gateway_and_the_web_app():
    entries = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(entries) == {*SERVICES, *(f"{s}-worker" for s in SERVICES), "gateway", "web"}
