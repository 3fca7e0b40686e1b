"""The web app's guards in a real browser: CSRF, staff pages, phone width."""
import uuid

import pytest
from playwright.sync_api import expect

from scenarios import new_product
from web_steps import ZH, log_in, shot


@pytest.fixture(scope="module")
def shopper(platform, browser, demo):
    """A logged-in customer's browser page (and the account behind it)."""
    email = f"guard-{uuid.uuid4().hex[:8]}@example.com"
    demo.register(platform.gateway, email, "小李")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, platform.gateway, email, "s3cret-pass")
    yield page
    context.close()


def test_a_state_change_without_the_forms_csrf_token_is_refused(platform, shopper):
    g = platform.gateway
    # The logged-in browser's own cookies, but a request no page of the site made (as a forged form would).
    res = shopper.context.request.post(g + "/account/addresses", form={"name": "X", "phone": "13800138000"})
    refused = ZH["The form has expired or did not come from this site. Go back, reload and try again."]
    assert res.status == 400 and refused in res.text()
    res = shopper.context.request.post(g + "/logout", form={"csrf_token": "forged"})
    assert res.status == 400
    shopper.goto(g + "/account/")
    expect(shopper.locator("#membership")).to_be_visible()  # still logged in: the forged logout did nothing


def test_a_customer_gets_the_staff_only_page_from_the_admin_console(platform, shopper):
    res = shopper.goto(platform.gateway + "/admin/orders")
    assert res.status == 403
    expect(shopper.locator("h1")).to_have_text(ZH["Staff only"])


def test_an_anonymous_visitor_is_sent_to_log_in_and_back(platform, browser):
    page = browser.new_page()
    page.goto(platform.gateway + "/admin/products")
    assert "/login?next=/admin/products" in page.url
    page.fill("input[name=login]", platform.admin[0])
    page.fill("input[name=password]", platform.admin[1])
    page.click("form button.primary")
    assert page.url.endswith("/admin/products")
    page.close()


def test_the_main_pages_fit_a_375_px_phone_without_scrolling_sideways(platform, browser, demo, admin):
    product = new_product(platform, demo, admin, skus=2)
    email = f"phone-{uuid.uuid4().hex[:8]}@example.com"
    customer = demo.register(platform.gateway, email, "小张")
    order = demo.place_order(customer, product["skus"][0]["id"], 1)
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    g = platform.gateway
    pages = ["/", f"/search?q={product['name']}", f"/products/{product['id']}", "/login", "/register"]
    for path in pages:
        page.goto(g + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    page.goto(g + f"/products/{product['id']}")
    page.locator("label.sku").first.click()
    page.click("form button.primary")  # into the cart
    log_in(page, g, email, "s3cret-pass")
    for path in ["/cart", "/checkout", f"/orders/{order['id']}", "/orders", "/account/", "/account/tickets"]:
        page.goto(g + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    page.goto(g + f"/products/{product['id']}")
    shot(page, "phone-product")
    context.close()


def test_an_order_page_updates_itself_when_the_payment_lands_with_no_script_blocked(platform, browser, demo, sku):
    email = f"poll-{uuid.uuid4().hex[:8]}@example.com"
    customer = demo.register(platform.gateway, email, "小赵")
    order = demo.place_order(customer, sku["id"], 1)
    demo.wait_for("AWAITING_PAYMENT", demo.order_status(customer, order["id"], "AWAITING_PAYMENT"))
    payment = customer.post("/api/payments", {"order_id": order["id"], "method": "wechat_pay"}, expect=201)
    page = browser.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
    log_in(page, platform.gateway, email, "s3cret-pass")
    page.goto(platform.gateway + f"/orders/{order['id']}?paying=1")
    expect(page.locator("#order-status")).to_have_text(ZH["Awaiting payment"])
    customer.post(f"/api/payments/{payment['id']}/sandbox", {"outcome": "success"})
    # htmx (vendored, under the Content-Security-Policy) polls and reloads the page: no click, no reload here.
    expect(page.locator("#order-status")).to_have_text(ZH["Paid"], timeout=20_000)
    assert blocked == []
    page.close()
