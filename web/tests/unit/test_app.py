"""The web app's guards, without the platform: CSRF, staff pages, sessions, headers, error pages.
(The real flows are the browser tests in tests/e2e/test_web_*.py.)"""
import re

import pytest

from web import session as web_session
from web.admin_catalog import category_tree
from web.app import create_app
from web.config import WebSettings


@pytest.fixture
def app(free_port_url):
    return create_app(WebSettings(api_url=free_port_url, secret_key="unit-test-secret", secure_cookies=False,
                                  sandbox=True, api_timeout=1))


@pytest.fixture
def free_port_url():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens: the API is "down"


def log_in_as(client, role: str) -> None:
    with client.application.test_request_context():
        web_session.store_tokens({"access_token": "ACCESS-TOKEN-TEXT", "refresh_token": "REFRESH-TOKEN-TEXT"})
        from flask import session
        sealed = session["tokens"]
    with client.session_transaction() as s:
        s["tokens"] = sealed
        s["user"] = {"id": "u1", "name": "Wang", "role": role}


def test_a_form_posted_without_its_csrf_token_is_refused(client):
    res = client.post("/cart/add", data={"sku_id": "x"})
    assert res.status_code == 400
    assert "表单已过期" in res.get_data(as_text=True)
    with client.session_transaction() as s:
        assert "cart" not in s


def test_a_form_with_its_csrf_token_is_accepted(client):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = client.post("/cart/add", data={"sku_id": "sku-1", "quantity": "2", "csrf_token": token})
    assert res.status_code == 302
    with client.session_transaction() as s:
        assert s["cart"] == {"sku-1": 2}


def test_staff_pages_send_anonymous_visitors_to_the_login_page_and_refuse_customers(client):
    res = client.get("/admin/orders?status=PAID")
    assert res.status_code == 302 and res.headers["Location"] == "/login?next=/admin/orders?status%3DPAID"
    log_in_as(client, "customer")
    res = client.get("/admin/")
    assert res.status_code == 403 and "仅限员工" in res.get_data(as_text=True)


def test_the_session_cookie_is_httponly_samesite_lax_and_never_shows_the_tokens(client):
    log_in_as(client, "customer")
    client.get("/login")
    cookie = client.get_cookie("mall_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    import base64
    payload = cookie.value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode(errors="replace")
    assert "ACCESS-TOKEN-TEXT" not in decoded and "REFRESH-TOKEN-TEXT" not in decoded


def test_every_page_carries_a_content_security_policy_without_inline_scripts(client):
    res = client.get("/login")
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in res.get_data(as_text=True)


def test_an_unreachable_api_is_a_readable_page_not_a_traceback(client):
    res = client.get("/")
    body = res.get_data(as_text=True)
    assert res.status_code == 503 and "unavailable" in body and "Traceback" not in body


def test_after_login_only_paths_on_this_site_are_followed(client):
    log_in_as(client, "customer")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for target, expected in [("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"),
                             ("/orders", "/orders")]:
        res = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": token})
        assert res.headers["Location"] == expected


def test_the_category_tree_lists_parents_before_their_children():
    cats = [{"id": "c", "name": "Running", "parent_id": "a"}, {"id": "a", "name": "Shoes", "parent_id": None},
            {"id": "b", "name": "Bags", "parent_id": None}, {"id": "d", "name": "Trail", "parent_id": "c"}]
    assert [(d, c["name"]) for d, c in category_tree(cats)] == [(0, "Bags"), (0, "Shoes"), (1, "Running"),
                                                                 (2, "Trail")]


def test_a_form_posted_after_the_session_ended_goes_to_login_and_back_to_the_forms_page(client):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = client.post("/orders/o-1/cancel", data={"csrf_token": token}, headers={"Referer": "http://shop/orders/o-1"})
    assert res.status_code == 302 and res.headers["Location"] == "/login?next=/orders/o-1"
