"""order's own tables and the rules that live on them: the order state machine and totals.

An order keeps copies of what it was placed with (product name, SKU code and attributes, unit
price, shipping address): later changes in catalog or crm never rewrite a placed order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mall_shared.api import Conflict
from mall_shared.db import NAMING, BigId, UTCDateTime, bus_tables, new_id, utcnow

from .pricing import Breakdown, PricedLine


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


bus_tables(Base.metadata)

PENDING, AWAITING_PAYMENT, PAID = "PENDING", "AWAITING_PAYMENT", "PAID"
PROCESSING, SHIPPED, COMPLETED, CANCELLED = "PROCESSING", "SHIPPED", "COMPLETED", "CANCELLED"
STATUSES = (PENDING, AWAITING_PAYMENT, PAID, PROCESSING, SHIPPED, COMPLETED, CANCELLED)
# The happy path, in order; CANCELLED is the one way off it.
MAIN_LINE = (PENDING, AWAITING_PAYMENT, PAID, PROCESSING, SHIPPED, COMPLETED)

# The state machine, whole: from each status, where an order may go next.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({AWAITING_PAYMENT, CANCELLED}),
    AWAITING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({PROCESSING, CANCELLED}),
    # Once staff process (pick, pack) an order it can no longer be cancelled: logistics ships only
    # PROCESSING orders, so a cancel racing a shipment can never both refund and ship.
    PROCESSING: frozenset({SHIPPED}),
    SHIPPED: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
}
UNPAID = (PENDING, AWAITING_PAYMENT)


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, current: str, target: str):
        super().__init__(f"An order that is {current} cannot become {target}",
                         details={"status": current, "requested": target})


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_created_at", "status", "created_at"),
        Index("ix_orders_customer_id_created_at", "customer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    delivery_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    # The pricing step's breakdown (pricing.py): total = subtotal − promotion_discount
    # − coupon_discount − points_discount + delivery_fee.
    promotion_discount: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_discount: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_id: Mapped[str | None] = mapped_column(String(36))  # the wallet coupon it locks, then uses
    points_used: Mapped[int] = mapped_column(BigInteger, default=0)
    points_discount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The saga's holds: AWAITING_PAYMENT needs the stock (StockReserved) and, when it spends
    # points, the points (PointsHeld), in either order.
    stock_reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    points_held: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    shipping_address: Mapped[dict] = mapped_column(JSON)
    delivery_method_id: Mapped[str] = mapped_column(String(64))
    delivery_method_name: Mapped[str | None] = mapped_column(String(100))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.position", lazy="selectin",
                                                  cascade="all, delete-orphan")
    history: Mapped[list[OrderHistory]] = relationship(order_by="OrderHistory.id", lazy="selectin",
                                                       cascade="all, delete-orphan")

    def add_line(self, priced: PricedLine, **copied) -> OrderLine:
        line = OrderLine(sku_id=priced.sku_id, quantity=priced.quantity, unit_price=priced.unit_price,
                         line_total=priced.line_total, discount=priced.discount, paid=priced.paid,
                         points=priced.points, position=len(self.lines), **copied)
        self.lines.append(line)
        return line

    def price(self, breakdown: Breakdown) -> None:
        """Totals from the pricing step (a client never sets a price)."""
        self.subtotal, self.delivery_fee, self.total = breakdown.subtotal, breakdown.delivery_fee, breakdown.total
        self.promotion_discount, self.coupon_discount = breakdown.promotion_discount, breakdown.coupon_discount
        self.points_used, self.points_discount = breakdown.points_used, breakdown.points_discount

    @property
    def holds_complete(self) -> bool:
        """Its stock is reserved and the points it spends (if any) are held: it can be paid."""
        return self.stock_reserved and (self.points_used == 0 or self.points_held)

    def can_become(self, target: str) -> bool:
        return target in TRANSITIONS[self.status]

    def transition(self, target: str, reason: str | None, actor: str, at: datetime | None = None) -> OrderHistory:
        """Move to `target` if the state machine allows it, recording when, why and by whom."""
        if not self.can_become(target):
            raise IllegalTransition(self.status, target)
        at = at or utcnow()
        previous, self.status, self.updated_at = self.status, target, at
        if target == CANCELLED:
            self.cancel_reason = reason
        entry = OrderHistory(status=target, previous_status=previous, at=at, reason=reason, actor=actor,
                             kind="status")
        self._record(entry)
        return entry

    def note(self, reason: str, actor: str, ref: str | None = None) -> OrderHistory | None:
        """Record a fact that changes no status (a failed payment, a refund, a late event);
        once per `ref`, so a second event with the same meaning adds nothing."""
        if ref is not None and self._has_ref(ref):
            return None
        self.updated_at = utcnow()
        entry = OrderHistory(status=self.status, previous_status=self.status, at=self.updated_at, reason=reason,
                             actor=actor, kind="note", ref=ref)
        self._record(entry)
        return entry

    # The saga's workers change an order without reading its history (lock_order(..., whole=False)):
    # a history entry is then added as a row, and a note's ref looked up, without loading the rest.
    def _record(self, entry: OrderHistory) -> None:
        state = inspect(self)
        if "history" in state.dict:
            self.history.append(entry)
        else:
            entry.order_id = self.id
            state.session.add(entry)

    def _has_ref(self, ref: str) -> bool:
        state = inspect(self)
        if "history" in state.dict:
            return any(h.ref == ref for h in self.history)
        return state.session.scalar(select(OrderHistory.id).where(OrderHistory.order_id == self.id,
                                                                  OrderHistory.ref == ref).limit(1)) is not None

    def is_at_or_past(self, target: str) -> bool:
        """Already there, or further along the happy path (a late or repeated event)."""
        if self.status == target:
            return True
        return (self.status in MAIN_LINE and target in MAIN_LINE
                and MAIN_LINE.index(self.status) > MAIN_LINE.index(target))

    def path_to(self, target: str) -> list[str]:
        """The happy-path statuses from here (exclusive) to `target` (inclusive); [] when none."""
        if self.status not in MAIN_LINE or target not in MAIN_LINE:
            return []
        here, there = MAIN_LINE.index(self.status), MAIN_LINE.index(target)
        return list(MAIN_LINE[here + 1:there + 1])


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(String(36))
    sku_code: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[str | None] = mapped_column(String(36))
    product_name: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    line_total: Mapped[int] = mapped_column(BigInteger)
    # Its share of the order's discounts, what was paid for it, the points spent on it: a return
    # pays back `paid` and gives back `points`, exactly.
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    paid: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    campaign_id: Mapped[str | None] = mapped_column(String(36))  # the flash sale that priced it


class OrderHistory(Base):
    """One row per transition (kind "status") or fact noted on the order (kind "note")."""

    __tablename__ = "order_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    previous_status: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(60))  # "customer:<id>", "staff:<id>", "catalog", "system", ...
    ref: Mapped[str | None] = mapped_column(String(80))  # the payment, refund or shipment a note is about


# ---- read models: what checkout needs of other services, kept from their events -------------
# Each row is the newest state its owner published (the greatest `version`); checkout reads them
# instead of calling catalog, logistics and crm, and falls back to one call only for a row that
# has not arrived yet (readmodels.py). The owners stay the authority: catalog still reserves.
class CatalogSku(Base):
    """A SKU as catalog last described it (SkuChanged)."""
    __tablename__ = "catalog_skus"

    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36))
    product_name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    product_status: Mapped[str] = mapped_column(String(16))
    sold_out: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)

    @property
    def sellable(self) -> bool:
        return self.status == "listed" and self.product_status == "listed" and not self.sold_out


class DeliveryOption(Base):
    """A delivery method and its fee as logistics last described it (DeliveryMethodChanged)."""
    __tablename__ = "delivery_methods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean)
    regions: Mapped[list | None] = mapped_column(JSON)  # provinces served; null means everywhere
    version: Mapped[int] = mapped_column(Integer)

    def serves(self, province: str) -> bool:
        return self.regions is None or province in self.regions


class SavedAddress(Base):
    """A customer's saved address as crm last described it (AddressSaved; AddressDeleted leaves
    the row `deleted`, so a late AddressSaved cannot bring it back)."""
    __tablename__ = "saved_addresses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    detail: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)


class Membership(Base):
    """A customer's tier and spendable points as crm last described them (MembershipChanged):
    member prices, and points above the balance refused at checkout (crm still holds them)."""
    __tablename__ = "memberships"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tier: Mapped[str] = mapped_column(String(20))
    balance: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)


class ProductCategory(Base):
    """A product's category as catalog last listed it (ProductListed), for coupons scoped to a
    category. `at` is the event's time: the newest listing wins."""
    __tablename__ = "product_categories"

    product_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[str] = mapped_column(String(40))


# ---- cart, coupons, campaigns: order's own (pricing lives with what it prices) ----------------
class CartItem(Base):
    __tablename__ = "cart_items"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CouponTemplate(Base):
    """What staff offer: amount off or percent off (with a cap), a threshold (满X减Y), a validity
    window, how many copies in all and per customer, and the goods it covers."""
    __tablename__ = "coupon_templates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # amount | percent
    value: Mapped[int] = mapped_column(BigInteger)  # fen off, or percent off
    max_off: Mapped[int | None] = mapped_column(BigInteger)
    threshold: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    total_quantity: Mapped[int] = mapped_column(Integer)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    scope: Mapped[str] = mapped_column(String(10), default="all")  # all | category | product
    scope_ids: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WalletCoupon(Base):
    """One claimed copy: available, locked by an unpaid order, used once that order is paid."""
    __tablename__ = "wallet_coupons"
    __table_args__ = (Index("ix_wallet_coupons_customer_id_template_id", "customer_id", "template_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    template_id: Mapped[str] = mapped_column(ForeignKey("coupon_templates.id"))
    customer_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10), default="available")  # available | locked | used
    order_id: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    template: Mapped[CouponTemplate] = relationship(lazy="joined")


class Campaign(Base):
    """A promotion staff run: `reduction` (满减 `tiers` of [threshold, off]), `flash_price` (`price`
    of `sku_id`, at most `per_customer_limit` units a customer), `member_price` (`tiers` of
    {tier: percent off})."""
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_kind_sku_id", "kind", "sku_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    tiers: Mapped[list | dict | None] = mapped_column(JSON)
    sku_id: Mapped[str | None] = mapped_column(String(36))
    price: Mapped[int | None] = mapped_column(BigInteger)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlashPurchase(Base):
    """Units of a flash sale a customer holds in orders not cancelled (the per-customer limit)."""
    __tablename__ = "flash_purchases"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
