"""The storefront's checkout offers the shopper's coupons and points, priced by order's /api/cart,
in Chromium through the gateway: the order and its payment come to exactly the total shown."""
import uuid

from playwright.sync_api import expect

from scenarios import new_product
from web_steps import ZH, log_in, order_id_from

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "文三路 100 号", "postal_code": "310000"}


def test_a_shopper_checks_out_with_a_coupon_and_points_and_pays_the_total_shown(platform, browser, demo, admin):
    product = new_product(platform, demo, admin, stock=10, price=39900)
    email = f"promo-{uuid.uuid4().hex[:8]}@example.com"
    shopper_api = demo.register(platform.gateway, email, "优惠顾客")
    me = shopper_api.get("/api/auth/me")
    template = demo.offer_coupon(admin, total_quantity=10)
    coupon = shopper_api.post(f"/api/promotions/coupons/{template['id']}/claim", expect=201)
    admin.post(f"/api/crm/customers/{me['id']}/points", {"points": 500, "reason": "e2e"}, expect=201)
    demo.wait_for("order's copy of the points", lambda: shopper_api.get("/api/cart")["points_balance"] == 500)

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    g = platform.gateway
    log_in(page, g, email, "s3cret-pass")
    page.goto(g + f"/products/{product['id']}")
    page.locator("label.sku").first.click()
    page.click("form button.primary")
    page.get_by_role("link", name=ZH["Check out"]).click()
    expect(page.locator("select[name=coupon_id] option")).to_have_count(2)  # none, and the one that applies
    expect(page.locator("#checkout-total")).to_have_text("¥399.00")  # the first method: pickup, free
    page.check("input[name=delivery_method_id][value=standard]")  # priced again at once, without a click
    expect(page.locator("#checkout-total")).to_have_text("¥409.00")

    page.select_option("select[name=coupon_id]", coupon["id"])
    page.fill("input[name=points]", "500")
    page.check("input[name=delivery_method_id][value=standard]")
    page.get_by_role("button", name=ZH["Update total"]).click()
    expect(page.locator("#checkout-total")).to_have_text("¥374.00")  # 399 − 30 coupon − 5 points + 10
    for field, value in ADDRESS.items():
        page.fill(f"input[name={field}]", value)
    page.get_by_role("button", name=ZH["Place order"]).click()
    order_id = order_id_from(page)
    pay_now = page.get_by_role("button", name=ZH["Pay now"])
    expect(pay_now).to_be_visible(timeout=30_000)  # stock reserved and points held
    page.check("input[name=method][value=alipay]")
    pay_now.click()
    expect(page.locator("strong.amount")).to_have_text("¥374.00")
    order = shopper_api.get(f"/api/orders/{order_id}")
    assert (order["coupon_id"], order["coupon_discount"], order["points_used"], order["total"]) == (
        coupon["id"], 3000, 500, 37400)
    assert shopper_api.get("/api/cart")["lines"] == []
