"""The shoe-store story by clicking, in Chromium, through the gateway: staff list a shoe with two
sizes; a shopper searches, picks size 42, checks out and pays in the sandbox; staff process and
ship; the shopper sees tracking, confirms receipt and reviews; size 41 sells out and shows it."""
import uuid

from playwright.sync_api import expect

from mall_shared.testing import eventually
from scenarios import new_customer
from web_steps import ZH, log_in, order_id_from, reload_until, shot, to_english

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "文三路 100 号", "postal_code": "310000"}


def test_the_shoe_store_story_by_clicking(platform, browser, demo):
    run = uuid.uuid4().hex[:6]
    g = platform.gateway
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    shopper = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    # Staff list a shoe with two sizes (in English: the console's language switch).
    log_in(staff, g, *platform.admin)
    to_english(staff)
    staff.goto(g + "/admin/categories")
    staff.fill("form.inline-form >> nth=-1 >> input[name=name]", f"Shoes {run}")
    staff.get_by_role("button", name="Create").click()
    staff.goto(g + "/admin/products/new")
    staff.fill("input[name=name]", f"Runner {run}")
    staff.select_option("select[name=category_id]", label=f"Shoes {run}")
    staff.fill("textarea[name=description]", "A light running shoe")
    for i, (size, stock) in enumerate([("41", "1"), ("42", "10")]):
        staff.fill(f"input[name=sku{i}_code]", f"RUN-{size}-{run}")
        staff.fill(f"input[name=sku{i}_size]", size)
        staff.fill(f"input[name=sku{i}_price]", "399")
        staff.fill(f"input[name=sku{i}_stock]", stock)
    staff.get_by_role("button", name="Create product").click()
    expect(staff.locator("#product-status")).to_have_text("Draft")
    staff.get_by_role("button", name="List for sale").click()
    expect(staff.locator("#product-status")).to_have_text("On sale")
    shot(staff, "admin-product")

    # A shopper registers (the storefront speaks Chinese by default), searches and picks size 42.
    shopper.goto(g + "/register")
    expect(shopper.locator("html")).to_have_attribute("lang", "zh-CN")
    shopper.fill("input[name=name]", "小王")
    shopper.fill("input[name=login]", f"shopper-{run}@example.com")
    shopper.fill("input[name=password]", "s3cret-pass")
    shopper.click("form button.primary")
    shot(shopper, "storefront-home")
    shopper.fill("header input[name=q]", f"Runner {run}")
    shopper.press("header input[name=q]", "Enter")
    shot(shopper, "storefront-search")
    shopper.get_by_role("link", name=f"Runner {run}").click()
    expect(shopper.locator("label.sku")).to_have_count(2)
    shot(shopper, "storefront-product")
    shopper.locator("label.sku", has_text="42").click()
    shopper.click("form button.primary")
    expect(shopper.locator("table.lines")).to_contain_text("¥399.00")
    shopper.get_by_role("link", name=ZH["Check out"]).click()

    # Checkout with a new address and standard delivery; pay by Alipay in the sandbox.
    for field, value in ADDRESS.items():
        shopper.fill(f"input[name={field}]", value)
    shopper.check("input[name=save_address]")
    free_delivery = shopper.locator("#checkout-total").inner_text()  # the first method: pickup
    shopper.check("input[name=delivery_method_id][value=standard]")
    expect(shopper.locator("#checkout-total")).not_to_have_text(free_delivery)  # priced again with its fee
    shot(shopper, "storefront-checkout")
    shopper.get_by_role("button", name=ZH["Place order"]).click()
    order_id = order_id_from(shopper)  # and the address is in the book for next time (asserted below)
    pay_now = shopper.get_by_role("button", name=ZH["Pay now"])
    expect(pay_now).to_be_visible(timeout=30_000)  # the page refreshes itself once stock is reserved
    shopper.check("input[name=method][value=alipay]")
    pay_now.click()
    expect(shopper.locator("strong.amount")).to_have_text("¥409.00")  # 399 + 10 standard delivery
    shopper.get_by_role("button", name=ZH["Confirm payment"]).click()
    expect(shopper.locator("#order-status")).to_have_text(ZH["Paid"], timeout=30_000)

    # Staff process and ship it with SF Express.
    staff.goto(g + f"/admin/orders/{order_id}")
    staff.get_by_role("button", name="Process (pick and pack)").click()
    expect(staff.locator("#order-status")).to_have_text("Processing")
    tracking = f"SF{uuid.uuid4().int % 10**12:012d}"

    def ship():  # logistics hears of PROCESSING over the bus: until then it refuses (order_not_ready)
        staff.select_option("select[name=carrier]", "sf")
        staff.fill("input[name=tracking_number]", tracking)
        staff.get_by_role("button", name="Ship", exact=True).click()
        if staff.locator("#tracking .tracking-number").count():
            return True
        staff.reload()
    eventually(ship, timeout=30, interval=0.2)
    reload_until(staff, "#order-status", "Shipped")
    shot(staff, "admin-order")

    # The reports (a read model of the bus) count the sale: figures, a chart, a CSV download.
    staff.goto(g + "/admin/reports")

    def counted():
        staff.reload()
        return staff.locator("#gmv").text_content() != "¥0.00"
    eventually(counted, timeout=30, interval=0.5)
    expect(staff.locator("svg.chart rect").first).to_be_attached()
    csv = staff.context.request.get(g + "/admin/reports/sales.csv")
    assert csv.ok and csv.text().startswith("period,") and "attachment" in csv.headers["content-disposition"]
    shot(staff, "admin-reports")
    staff.goto(g + "/admin/")
    expect(staff.locator("#sales-today")).not_to_have_text("¥0.00")
    shot(staff, "admin-dashboard")

    # The shopper sees the tracking, confirms receipt and reviews.
    shopper.goto(g + f"/orders/{order_id}")
    expect(shopper.locator("#order-status")).to_have_text(ZH["Shipped"])
    expect(shopper.locator(".tracking-number")).to_have_text(tracking)
    shot(shopper, "storefront-order")
    shopper.get_by_role("button", name=ZH["Confirm receipt"]).click()
    expect(shopper.locator("#order-status")).to_have_text(ZH["Completed"], timeout=30_000)
    shopper.select_option("#review select[name=rating]", "5")
    shopper.fill("#review textarea[name=text]", f"Great fit {run}")
    shopper.get_by_role("button", name=ZH["Post review"]).click()
    expect(shopper.locator(".flash.ok")).to_have_text(ZH["Thank you for your review"])
    shot(shopper, "storefront-order-completed")

    # Another customer buys the last size 41: the product page shows it sold out, 42 still on sale.
    other = new_customer(platform, demo)
    sku41 = next(s for s in staff_skus(platform, demo, run) if s["attributes"]["size"] == "41")
    demo.place_order(other, sku41["id"], 1)
    shopper.goto(g + f"/products/{sku41['product_id']}")
    reload_until(shopper, "label.sku:has-text('41') .stock", ZH["Sold out"])
    expect(shopper.locator("label.sku", has_text="41").locator("input")).to_be_disabled()
    expect(shopper.locator("label.sku", has_text="42").locator("input")).to_be_enabled()
    reload_until(shopper, ".review", f"Great fit {run}")
    shopper.goto(g + "/account/addresses")
    expect(shopper.locator("section.card.row")).to_contain_text("文三路 100 号")


def staff_skus(platform, demo, run: str) -> list[dict]:
    admin = demo.login(platform.gateway, *platform.admin)
    found = admin.get("/api/catalog/products", params={"q": f"Runner {run}"})["items"]
    return found[0]["skus"]
