"""Accounts and tokens against real PostgreSQL: register, login, refresh, logout, lockout,
the first admin and staff accounts."""
import threading
import uuid

from crm import accounts
from crm.app import create_app
from mall_shared.api import Unauthorized
from mall_shared.auth import verify_token
from mall_shared.testing import outbox_events


def email(name="user"):
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def mobile():
    return "13" + str(uuid.uuid4().int)[:9]


def test_a_customer_registers_by_email_and_the_profile_has_no_password(client, db):
    address = email("alice")
    res = client.post("/api/auth/register", json={"email": address, "password": "secret123", "name": "Alice"})
    assert res.status_code == 201, res.json
    assert res.json["email"] == address and res.json["role"] == "customer"
    assert "password" not in res.json and "password_hash" not in res.json
    (registered,) = outbox_events(db, res.json["id"])
    assert registered["type"] == "CustomerRegistered"
    assert registered["data"] == {"customer_id": res.json["id"], "name": "Alice", "email": address, "mobile": None}


def test_a_customer_registers_by_mobile_and_logs_in_with_it(client, keys):
    number = mobile()
    res = client.post("/api/auth/register", json={"mobile": number, "password": "secret123", "name": "李雷"})
    assert res.status_code == 201, res.json
    tokens = client.post("/api/auth/login", json={"mobile": number, "password": "secret123"}).json
    assert verify_token(tokens["access_token"], keys.public).id == res.json["id"]


def test_registering_twice_is_a_conflict(client):
    body = {"email": email(), "password": "secret123", "name": "Alice"}
    assert client.post("/api/auth/register", json=body).status_code == 201
    body["email"] = body["email"].upper()  # emails are case-insensitive
    res = client.post("/api/auth/register", json=body)
    assert res.status_code == 409
    assert res.json["error"]["code"] == "account_exists"


def test_bad_registrations_name_the_field_and_write_nothing(client):
    cases = [({"email": email(), "password": "short1", "name": "A"}, "password"),
             ({"email": email(), "password": "lettersonly", "name": "A"}, "password"),
             ({"mobile": "12345678901", "password": "secret123", "name": "A"}, "mobile"),
             ({"email": "not-an-email", "password": "secret123", "name": "A"}, "email"),
             ({"password": "secret123", "name": "A"}, "email"),
             ({"email": email(), "password": "secret123", "name": ""}, "name")]
    for body, field in cases:
        res = client.post("/api/auth/register", json=body)
        assert res.status_code == 422, body
        assert field in res.json["error"]["details"]["fields"], res.json


def test_login_gives_a_bearer_token_that_verifies_with_crms_public_key(client, keys, register):
    profile, _, tokens = register("Alice")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900 and tokens["refresh_token"]
    identity = verify_token(tokens["access_token"], keys.public)
    assert (identity.id, identity.role, identity.email, identity.name) == (
        profile["id"], "customer", profile["email"], "Alice")


def test_a_token_signed_by_another_key_is_not_crms(client, register, tmp_path):
    from mall_shared.testing import Keys

    _, _, tokens = register()
    other = Keys(tmp_path)
    try:
        verify_token(tokens["access_token"], other.public)
        raise AssertionError("verified with the wrong key")
    except Unauthorized:
        pass


def test_a_wrong_password_reads_exactly_like_an_unknown_account(client, register):
    profile, _, _ = register()
    wrong = client.post("/api/auth/login", json={"email": profile["email"], "password": "wrong1234"})
    unknown = client.post("/api/auth/login", json={"email": email("nobody"), "password": "wrong1234"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, register):
    profile, _, _ = register(password="secret123")
    for _ in range(5):
        res = client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"})
        assert res.status_code == 401
    res = client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"})
    assert res.status_code == 429
    assert res.json["error"]["code"] == "too_many_attempts"


def test_an_unknown_account_is_locked_the_same_way_so_the_lock_reveals_nothing(client):
    ghost = email("ghost")
    codes = [client.post("/api/auth/login", json={"email": ghost, "password": "nope12345"}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_a_successful_login_clears_earlier_failures(client, register):
    profile, _, _ = register(password="secret123")
    for _ in range(4):
        client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"})
    assert client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"}).status_code == 200
    for _ in range(4):
        client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"})
    assert client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"}).status_code == 200


def test_refresh_rotates_and_the_spent_token_is_refused(client, keys, register):
    profile, _, tokens = register()
    res = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert res.status_code == 200, res.json
    assert res.json["refresh_token"] != tokens["refresh_token"]
    assert verify_token(res.json["access_token"], keys.public).id == profile["id"]
    again = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401
    assert again.json["error"]["code"] == "invalid_refresh_token"


def test_replaying_a_spent_refresh_token_revokes_the_whole_login(client, register):
    _, _, tokens = register()
    rotated = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json
    assert client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    # The thief replayed the old token: the rotated one dies with it.
    assert client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401


def test_logout_revokes_the_refresh_token(client, register):
    _, _, tokens = register()
    assert client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204


def test_an_unknown_refresh_token_is_refused(client):
    res = client.post("/api/auth/refresh", json={"refresh_token": "made-up"})
    assert res.status_code == 401


def test_me_returns_the_tokens_account_and_needs_a_token(client, register):
    profile, headers, _ = register("Bob")
    assert client.get("/api/auth/me", headers=headers).json == profile
    assert client.get("/api/auth/me").status_code == 401


def test_changing_the_password_needs_the_current_one_and_logs_out_elsewhere(client, register):
    profile, headers, tokens = register(password="secret123")
    bad = client.post("/api/auth/password", json={"current_password": "wrong1234", "new_password": "better456"},
                      headers=headers)
    assert bad.status_code == 401
    ok = client.post("/api/auth/password", json={"current_password": "secret123", "new_password": "better456"},
                     headers=headers)
    assert ok.status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.post("/api/auth/login", json={"email": profile["email"], "password": "better456"}).status_code == 200


def test_the_first_admin_from_configuration_can_log_in(client, keys, admin):
    identity = verify_token(admin["Authorization"].split()[1], keys.public)
    assert identity.role == "admin"


def test_the_admin_bootstrap_is_idempotent_and_safe_when_workers_start_together(app_config, db):
    results = []
    address = email("admin")

    def start():
        with db.transaction() as session:
            results.append(accounts.ensure_admin(session, address, "admin-pass-1"))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    second = create_app(app_config)  # a restart with the configured admin already there
    second.extensions["mall_db"].dispose()


def test_the_admin_bootstrap_does_nothing_without_both_settings(db):
    with db.transaction() as session:
        assert accounts.ensure_admin(session, email("admin"), "") is False
        assert accounts.ensure_admin(session, "", "admin-pass-1") is False


def test_only_an_admin_creates_staff_accounts(client, keys, admin, register):
    body = {"email": email("staff"), "password": "staffpass1", "name": "Wang"}
    _, customer, _ = register()
    assert client.post("/api/auth/staff", json=body).status_code == 401
    assert client.post("/api/auth/staff", json=body, headers=customer).status_code == 403
    assert client.post("/api/auth/staff", json=body, headers=keys.headers(role="staff")).status_code == 403
    res = client.post("/api/auth/staff", json=body, headers=admin)
    assert res.status_code == 201, res.json
    assert res.json["role"] == "staff"
    tokens = client.post("/api/auth/login", json={"email": body["email"], "password": "staffpass1"}).json
    assert verify_token(tokens["access_token"], keys.public).role == "staff"
    assert client.post("/api/auth/staff", json=body, headers=admin).status_code == 409


def test_a_strangers_failures_never_lock_the_owner_out_from_their_own_client(client, register):
    profile, _, _ = register(password="secret123")
    attacker, owner = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(6):
        client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"}, headers=attacker)
    held = client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"}, headers=attacker)
    assert held.status_code == 429 and held.json["error"]["details"]["retry_after"] >= 1
    res = client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"}, headers=owner)
    assert res.status_code == 200 and res.json["access_token"]


def test_only_the_address_the_gateway_appended_counts_as_the_client(client, register):
    profile, _, _ = register(password="secret123")
    for i in range(5):  # a forged first entry changes nothing: the gateway's own last one counts
        client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"},
                    headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.9"})
    res = client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"},
                      headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9"})
    assert res.status_code == 429


def test_visitors_behind_the_web_app_are_told_apart_by_the_client_the_gateway_names(client, register):
    profile, _, _ = register(password="secret123")
    web = "10.0.0.7"  # every visitor's request reaches crm from the web app, through the gateway
    attacker = {"X-Forwarded-For": f"203.0.113.7, {web}", "X-Mall-Client": "203.0.113.7"}
    owner = {"X-Forwarded-For": f"198.51.100.1, {web}", "X-Mall-Client": "198.51.100.1"}
    for _ in range(6):
        client.post("/api/auth/login", json={"email": profile["email"], "password": "nope12345"}, headers=attacker)
    res = client.post("/api/auth/login", json={"email": profile["email"], "password": "secret123"}, headers=owner)
    assert res.status_code == 200
