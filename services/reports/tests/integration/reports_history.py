"""A known history of the mall as the bus tells it: customers, products, hundreds of orders over
ten days (paid, cancelled before and after payment, shipped, delivered, returned and refunded,
some facts arriving on a later day than their order), each event with the time it happened.
`History.expect` holds what the reports must say, counted here independently of reports' code."""
from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mall_shared.events import (
    CustomerRegistered,
    Delivered,
    Line,
    OrderPlaced,
    OrderStatusChanged,
    PaymentConfirmed,
    PaymentFailed,
    ProductListed,
    ProductViewed,
    ProductViews,
    RefundCompleted,
    ReturnReceived,
    Shipped,
    StockAdjusted,
    StockDepleted,
    StockReserved,
    TierChanged,
    envelope,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, tzinfo=SHANGHAI)  # the history's first Shanghai midnight
DAYS = 10
PRODUCTS = {  # product: (category, {sku: price})
    "p-runner": ("c-shoes", {"s-runner-41": 39900, "s-runner-42": 39900}),
    "p-boot": ("c-shoes", {"s-boot-40": 59900}),
    "p-sock": ("c-wear", {"s-sock-m": 2900, "s-sock-l": 2900}),
    "p-cap": ("c-wear", {"s-cap": 9900}),
}
PRICES = {sku: price for _, skus in PRODUCTS.values() for sku, price in skus.items()}
CATEGORY_OF = {sku: cat for cat, skus in PRODUCTS.values() for sku in skus}


def iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


@dataclass
class History:
    envelopes: list[dict] = field(default_factory=list)
    expect: Counter = field(default_factory=Counter)
    boundary_order: str = ""

    def add(self, evt, at: datetime, source: str = "test") -> None:
        env = envelope(evt, source)
        env["time"] = iso(at)
        self.envelopes.append(env)


def build(orders: int = 200, seed: int = 11) -> History:
    rnd = random.Random(seed)
    h = History()
    e = h.expect
    for product, (category, skus) in PRODUCTS.items():
        h.add(ProductListed(product_id=product, name=product.title(), category_id=category,
                            category_name=category.upper(), sku_ids=list(skus)), START - timedelta(days=1))
    customers = [f"cust-{i:03d}" for i in range(60)]
    for i, c in enumerate(customers):
        h.add(CustomerRegistered(customer_id=c, name=c), START + timedelta(hours=3 * i))
        e["registrations"] += 1
    # Tier changes, the later one published first: the latest by time must win.
    for c in customers[:10]:
        h.add(TierChanged(customer_id=c, old_tier="silver", new_tier="gold"), START + timedelta(days=5))
        h.add(TierChanged(customer_id=c, old_tier="regular", new_tier="silver"), START + timedelta(days=2))
    e["tier:gold"] = 10
    stock = {sku: 500 for sku in PRICES}
    paid_customers: dict[str, date] = {}
    for n in range(orders):
        order_id, customer = str(uuid.UUID(int=rnd.getrandbits(128))), rnd.choice(customers)
        placed = START + timedelta(days=rnd.randrange(DAYS), seconds=rnd.randrange(86_000))
        if n == 0:  # the last second of a Shanghai day; paid two seconds later, on the next day
            placed, h.boundary_order = START + timedelta(days=3) - timedelta(seconds=1), order_id
        lines = [Line(sku, rnd.randint(1, 3), PRICES[sku]) for sku in rnd.sample(sorted(PRICES), rnd.randint(1, 3))]
        total = sum(line.quantity * line.unit_price for line in lines) + 1000
        h.add(OrderPlaced(order_id=order_id, customer_id=customer, lines=lines, total=total), placed)
        e["placed"] += 1
        e["placed_amount"] += total
        for line in lines:
            stock[line.sku_id] -= line.quantity
        h.add(StockReserved(order_id=order_id, lines=[Line(x.sku_id, x.quantity) for x in lines],
                            stock={x.sku_id: stock[x.sku_id] for x in lines}), placed + timedelta(seconds=1))
        status = _status(h, order_id, customer, "PENDING")
        status("AWAITING_PAYMENT", placed + timedelta(seconds=2))
        roll = rnd.random()
        if roll < 0.15:  # never paid
            status("CANCELLED", placed + timedelta(minutes=30), rnd.choice(["payment_timeout", "customer_cancelled"]))
            continue
        method = rnd.choice(["alipay", "wechat_pay", "card"])
        if rnd.random() < 0.1:
            h.add(PaymentFailed(payment_id=str(uuid.uuid4()), order_id=order_id, method=method, amount=total,
                                reason="declined"), placed + timedelta(minutes=1))
            e[f"failed:{method}"] += 1
        paid = placed + (timedelta(seconds=2) if n == 0 else timedelta(minutes=rnd.choice([5, 20, 600, 1500])))
        h.add(PaymentConfirmed(payment_id=str(uuid.uuid4()), order_id=order_id, method=method, amount=total), paid)
        status("PAID", paid)
        e["paid"] += 1
        e["gmv"] += total
        e[f"gmv:{day(paid)}"] += total
        e[f"method:{method}"] += total
        if customer not in paid_customers or day(paid) < paid_customers[customer]:
            paid_customers[customer] = day(paid)
        for line in lines:
            e[f"units:{CATEGORY_OF[line.sku_id]}"] += line.quantity
        if roll < 0.22:  # cancelled after payment: refunded in full, a day later
            status("CANCELLED", paid + timedelta(hours=1), "customer_cancelled")
            _refund(h, order_id, total, paid + timedelta(days=1), paid)
            continue
        shipped = paid + timedelta(hours=rnd.randint(2, 30))
        carrier = rnd.choice(["sf", "zto"])
        shipment = str(uuid.uuid4())
        fact = dict(shipment_id=shipment, order_id=order_id, carrier=carrier, tracking_number="T" + order_id[:8])
        h.add(Shipped(**fact, status="shipped", at=iso(shipped)), shipped)
        status("SHIPPED", shipped)
        delivered = shipped + timedelta(hours=rnd.randint(20, 90))
        h.add(Delivered(**fact, status="signed", at=iso(delivered)), delivered)
        status("COMPLETED", delivered)
        e[f"delivered:{carrier}"] += 1
        if roll > 0.9:  # returned: one line refunded a week after delivery
            back = delivered + timedelta(days=6)
            line = lines[0]
            amount = line.quantity * line.unit_price
            return_id = str(uuid.uuid4())
            h.add(ReturnReceived(return_id=return_id, order_id=order_id, customer_id=customer, status="received",
                                 lines=[line], amount=amount, at=iso(back)), back)
            e["returns"] += 1
            _refund(h, order_id, amount, back + timedelta(minutes=5), paid, return_id)
    e["buyers"] = len(paid_customers)
    h.add(StockDepleted(sku_id="s-cap", product_id="p-cap", stock=0), START + timedelta(days=DAYS, hours=1))
    h.add(StockAdjusted(sku_id="s-boot-40", product_id="p-boot", kind="adjusted", quantity=-100, stock=3),
          START + timedelta(days=DAYS, hours=2))
    for d in range(DAYS):
        at = START + timedelta(days=d, hours=12)
        views = [ProductViews(product_id=p, count=rnd.randint(50, 200)) for p in sorted(PRODUCTS)]
        h.add(ProductViewed(period_start=iso(at), period_end=iso(at + timedelta(seconds=30)), views=views), at)
        e["views"] += sum(v.count for v in views)
    return h


def _status(h: History, order_id: str, customer: str, previous: str):
    state = {"previous": previous}

    def change(status: str, at: datetime, reason: str | None = None) -> None:
        h.add(OrderStatusChanged(order_id=order_id, customer_id=customer, status=status,
                                 previous_status=state["previous"], at=iso(at), reason=reason), at)
        state["previous"] = status
        h.expect[f"stage:{status}"] += 1
        if reason:
            h.expect[f"reason:{reason}"] += 1
    return change


def _refund(h: History, order_id: str, amount: int, at: datetime, paid: datetime, return_id: str | None = None):
    h.add(RefundCompleted(refund_id=str(uuid.uuid4()), payment_id="pay", order_id=order_id, amount=amount,
                          return_id=return_id), at)
    h.expect["refunds"] += 1
    h.expect["refund_amount"] += amount
    h.expect[f"refund_day:{day(at)}"] += amount
    h.expect[f"refund_sale_day:{day(paid)}"] += amount
