"""After-sales by clicking: a shopper asks for a return and opens a ticket; staff approve the
return, answer and resolve the ticket, and add goodwill points in the admin console; the shopper
sees all three."""
import uuid

from playwright.sync_api import expect

from scenarios import completed_order
from web_steps import ZH, log_in, to_english


def test_a_return_and_a_ticket_handled_between_shopper_and_staff(platform, browser, demo, admin, sku):
    email = f"after-{uuid.uuid4().hex[:8]}@example.com"
    customer = demo.register(platform.gateway, email, "小陈")
    order = completed_order(demo, admin, customer, [(sku["id"], 2)])
    g = platform.gateway
    shopper = browser.new_page()
    staff = browser.new_page()
    log_in(shopper, g, email, "s3cret-pass")
    log_in(staff, g, *platform.admin)
    to_english(staff)

    shopper.goto(g + f"/orders/{order['id']}")
    shopper.fill(f"#returns input[name=r_{sku['id']}]", "1")
    shopper.fill("#returns input[name=reason]", "尺码偏小")
    shopper.get_by_role("button", name=ZH["Request a return"]).click()
    expect(shopper.locator(".flash.ok")).to_have_text(ZH["Your return request is sent"])
    expect(shopper.locator("#returns .return")).to_contain_text(ZH["Requested"])

    staff.goto(g + "/admin/returns?status=requested")
    card = staff.locator("section.card", has_text=order["id"][:8])
    card.get_by_role("button", name="Approve").click()
    shopper.reload()
    expect(shopper.locator("#returns .return")).to_contain_text(ZH["Approved"])

    shopper.get_by_role("link", name=ZH["Contact customer service"]).click()
    shopper.fill("input[name=subject]", "退货运费")
    shopper.fill("textarea[name=message]", "请问退货运费谁出？")
    shopper.get_by_role("button", name=ZH["Send"]).click()
    expect(shopper.locator("ol.thread")).to_contain_text("请问退货运费谁出？")
    ticket_url = shopper.url

    staff.goto(g + "/admin/tickets?status=open")
    staff.get_by_role("link", name="退货运费").first.click()
    staff.fill("textarea[name=body]", "七天无理由退货，运费由商城承担。")
    staff.get_by_role("button", name="Send").click()
    staff.get_by_role("button", name="Resolve").click()
    expect(staff.locator("h1 .status")).to_have_text("Resolved")

    shopper.goto(ticket_url)
    expect(shopper.locator("ol.thread li.staff")).to_contain_text("运费由商城承担")
    expect(shopper.locator("h1 .status")).to_have_text(ZH["Resolved"])

    # Staff find the customer and add goodwill points; the shopper's ledger shows them.
    staff.goto(g + "/admin/customers")
    staff.fill("input[name=q]", email)
    staff.get_by_role("button", name="Search").last.click()
    staff.get_by_role("link", name="小陈").click()
    staff.fill("input[name=points]", "100")
    staff.fill("input[name=reason]", "退货补偿")
    staff.get_by_role("button", name="Adjust points").click()
    expect(staff.locator(".flash.ok")).to_have_text("Points adjusted")
    shopper.goto(g + "/account/")
    expect(shopper.locator("#membership table")).to_contain_text("退货补偿")
    shopper.close()
    staff.close()
