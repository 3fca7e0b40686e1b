"""docker-compose.yml is the deployment shape, so it must be safe by default: sandboxes off,
secrets required, a bus user per service that can publish only its own facts, nothing but the
gateway published, the JWT private key in crm alone, restart policies. The bus permissions are
proven on the real RabbitMQ: the provisioning script runs, then each user tries what it must not."""
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pika
import pytest
import yaml

from mall_shared.bus_acl import PUBLISHES, SCRIPT_PATH, script
from mall_shared.config import SERVICES
from mall_shared.events import EVENT_TYPES
from mall_shared.testing import broker_admin_url, create_vhost, delete_vhost

ROOT = Path(__file__).resolve().parents[1]
ALL = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
# What `docker compose up` starts; opt-in profiles (observability) are tools an operator asks for.
COMPOSE = {name: svc for name, svc in ALL.items() if not svc.get("profiles")}
APPS = [*SERVICES, *(f"{s}-worker" for s in SERVICES)]
SECRETS = {"MALL_ADMIN_PASSWORD": "a", "MALL_POSTGRES_PASSWORD": "p", "MALL_RABBITMQ_PASSWORD": "r",
           **{f"MALL_BUS_PASSWORD_{s.upper()}": s for s in SERVICES}}


def env_of(name: str) -> dict:
    return COMPOSE[name].get("environment", {})


def test_the_sandboxes_are_off_unless_the_dev_override_turns_them_on():
    assert all(env_of(name).get("MALL_SANDBOX") == "0" for name in APPS)
    dev = yaml.safe_load((ROOT / "docker-compose.dev.yml").read_text())["services"]
    assert all(dev[name]["environment"]["MALL_SANDBOX"] == "1" for name in APPS)
    assert not (ROOT / "docker-compose.override.yml").exists()  # compose would load it by default


def test_every_secret_is_required_and_none_has_a_default():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in SECRETS:
        assert f"${{{name}:?" in text, name
        assert f"${{{name}:-" not in text, name
    assert "guest" not in text and "mall-admin-2026" not in text


@pytest.mark.skipif(not shutil.which("docker-compose") and not os.environ.get("CI"), reason="needs docker-compose")
def test_compose_refuses_to_start_without_the_admin_password():
    env = {**os.environ, **SECRETS}
    subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, check=True, env=env)
    del env["MALL_ADMIN_PASSWORD"]
    res = subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode != 0 and "MALL_ADMIN_PASSWORD" in res.stderr


def test_each_service_reaches_the_bus_as_its_own_user():
    for service in SERVICES:
        for name in (service, f"{service}-worker"):
            url = urlsplit(env_of(name)["MALL_BROKER_URL"])
            assert (url.username, url.password) == (f"mall-{service}", f"${{MALL_BUS_PASSWORD_{service.upper()}}}")
    assert "MALL_BROKER_URL" not in env_of("gateway")
    users = COMPOSE["bus-users"]
    assert any(v.endswith(":/deploy/rabbitmq-users.sh:ro") for v in users["volumes"])
    assert COMPOSE["catalog"]["depends_on"]["bus-users"]["condition"] == "service_completed_successfully"


def test_only_the_gateway_is_published_and_rabbitmq_has_no_management_ui():
    assert [name for name, svc in COMPOSE.items() if svc.get("ports")] == ["gateway"]
    assert "management" not in COMPOSE["rabbitmq"]["image"]


def test_only_crm_mounts_the_jwt_private_key():
    holders = [name for name, svc in ALL.items()
               if any(v.startswith("jwt-private:") for v in svc.get("volumes", []))]
    assert sorted(holders) == ["crm", "keys"]
    assert env_of("crm")["CRM_JWT_PRIVATE_KEY_FILE"].startswith("/private/")
    assert all("CRM_JWT_PRIVATE_KEY_FILE" not in ALL[name].get("environment", {}) for name in ALL if name != "crm")


def test_every_long_running_container_restarts():
    one_shot = {"keys", "bus-users"}
    assert all(svc.get("restart") == "unless-stopped" for name, svc in COMPOSE.items() if name not in one_shot)


def test_the_gateway_shares_its_rate_limits_through_redis():
    assert env_of("gateway")["MALL_GATEWAY_RATE_LIMIT_STORAGE"].startswith("redis://redis:")


def test_every_event_type_has_exactly_one_publisher_and_the_script_is_current():
    owned = [t for types in PUBLISHES.values() for t in types]
    assert sorted(owned) == sorted(EVENT_TYPES) and len(owned) == len(set(owned))
    assert (ROOT / SCRIPT_PATH).read_text() == script()


@pytest.fixture(scope="module")
def bus_users():
    """The provisioning script run on the real RabbitMQ, in a fresh vhost, with users of our own."""
    if not shutil.which("rabbitmqctl"):
        pytest.fail("rabbitmqctl is needed to provision the bus users (apt-get install rabbitmq-server)")
    vhost_url = create_vhost("acl")
    vhost = urlsplit(vhost_url).path.lstrip("/").replace("%2F", "/")
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    env = {**os.environ, "MALL_BUS_VHOST": vhost, "MALL_BUS_USER_PREFIX": prefix, **SECRETS}
    try:
        subprocess.run(["sh", str(ROOT / SCRIPT_PATH), "catalog", "payment"], env=env, check=True,
                       capture_output=True)
        base = urlsplit(broker_admin_url())

        def connect(service: str) -> pika.BlockingConnection:
            url = f"amqp://{prefix}{service}:{SECRETS[f'MALL_BUS_PASSWORD_{service.upper()}']}@" \
                  f"{base.hostname}:{base.port or 5672}/{quote(vhost, safe='')}"
            return pika.BlockingConnection(pika.URLParameters(url))

        yield connect
    finally:
        for service in SERVICES:
            subprocess.run(["rabbitmqctl", "-q", "delete_user", f"{prefix}{service}"], capture_output=True)
        delete_vhost(vhost_url)


def refused(action) -> bool:
    try:
        action()
    except (pika.exceptions.ChannelClosedByBroker, pika.exceptions.ChannelWrongStateError) as exc:
        return getattr(exc, "reply_code", 403) == 403
    return False


def test_a_service_publishes_its_own_facts_and_uses_its_own_queues_only(bus_users):
    conn = bus_users("catalog")
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("mall.events", exchange_type="topic", durable=True)
    ch.queue_declare("catalog.events", durable=True)
    ch.queue_bind("catalog.events", "mall.events", routing_key="OrderPlaced")
    ch.queue_declare("catalog.events.dead", durable=True)
    ch.basic_publish("mall.events", "StockReserved", b"{}")  # its own fact: confirmed
    assert refused(lambda: ch.basic_publish("mall.events", "PaymentConfirmed", b"{}"))
    assert refused(lambda: conn.channel().queue_declare("order.events", durable=True))
    side = conn.channel()
    side.confirm_delivery()
    assert refused(lambda: side.basic_publish("", "order.events", b"{}"))  # no side door to another's queue
    conn.close()


def test_payment_may_confirm_payments_but_never_place_orders(bus_users):
    conn = bus_users("payment")
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare("mall.events", exchange_type="topic", durable=True)
    ch.basic_publish("mall.events", "PaymentConfirmed", b"{}")
    assert refused(lambda: ch.basic_publish("mall.events", "OrderPlaced", b"{}"))
    conn.close()
