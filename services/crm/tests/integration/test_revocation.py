"""Logging out and changing the password end the access tokens too, not only the refresh tokens:
crm refuses them at once and lists them for the gateway (which refuses them within a second)."""
from mall_shared.auth import verify_token


def login(client, password: str, **ident) -> dict:
    res = client.post("/api/auth/login", json={"password": password, **ident})
    assert res.status_code == 200, res.json
    return res.json


def me(client, headers):
    return client.get("/api/auth/me", headers=headers)


def revoked_ids(client) -> set[str]:
    return {r["token_id"] for r in client.get("/internal/revoked-tokens?after=0").json["items"]}


def test_logging_out_revokes_the_access_token_presented_with_it(client, register, keys):
    _, headers, tokens = register()
    assert me(client, headers).status_code == 200
    assert client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                       headers=headers).status_code == 204
    res = me(client, headers)
    assert res.status_code == 401 and res.json["error"]["code"] == "token_revoked"
    identity = verify_token(tokens["access_token"], keys.public)  # still well signed and unexpired…
    assert set(identity.token_ids) <= revoked_ids(client)  # …but listed for the gateway


def test_logging_out_ends_every_access_token_of_that_login_even_unpresented(client, register):
    profile, headers, tokens = register()
    rotated = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json
    newer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]}).status_code == 204
    assert me(client, headers).status_code == 401 and me(client, newer).status_code == 401


def test_changing_the_password_ends_the_access_tokens_of_every_login(client, register):
    profile, headers, _ = register(password="secret123")
    elsewhere = login(client, "secret123", email=profile["email"])
    other = {"Authorization": f"Bearer {elsewhere['access_token']}"}
    assert client.post("/api/auth/password", json={"current_password": "secret123", "new_password": "better456"},
                       headers=headers).status_code == 204
    assert me(client, other).json["error"]["code"] == "token_revoked"
    assert me(client, headers).status_code == 401
    fresh = login(client, "better456", email=profile["email"])
    assert me(client, {"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200


def test_a_logout_with_an_expired_or_forged_bearer_still_logs_out(client, register):
    _, _, tokens = register()
    res = client.post("/api/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                      headers={"Authorization": "Bearer forged"})
    assert res.status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
