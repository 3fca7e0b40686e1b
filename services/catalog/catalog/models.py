"""Catalog's own tables and the rules that live on them.

Stock is three counters per SKU: `on_hand` (everything received, less adjustments),
`reserved` (held for unpaid or undelivered orders) and `sold` (delivered). What a customer can
buy is `available = on_hand - reserved - sold`; every change is also a `StockMovement` row, so
the history explains each number.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mall_shared.api import Conflict
from mall_shared.db import NAMING, UTCDateTime, bus_tables, new_id, utcnow


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


bus_tables(Base.metadata)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("categories.id"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_status_created_at", "status", "created_at"),
        Index("ix_products_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        Index("ix_products_brand_trgm", "brand", postgresql_using="gin", postgresql_ops={"brand": "gin_trgm_ops"}),
        Index("ix_products_status_min_price", "status", "min_price"),
        # A category tree's count and price sort read this index alone, not the table.
        Index("ix_products_status_category_min_price", "status", "category_id", "min_price"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    brand: Mapped[str | None] = mapped_column(String(100))
    images: Mapped[list] = mapped_column(JSON, default=list)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Why it is delisted: "manual" stays delisted; "out_of_stock" comes back on restock.
    delisted_reason: Mapped[str | None] = mapped_column(String(16))
    sales: Mapped[int] = mapped_column(Integer, default=0)
    # The lowest SKU price ("from ¥X", as a storefront shows it): kept here so that filtering and
    # sorting by price use an index instead of a subquery per product.
    min_price: Mapped[int | None] = mapped_column(Integer)
    # The rating summary of its visible reviews, learnt from crm's ReviewPosted / ReviewHidden.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.code", lazy="selectin")

    @property
    def rating(self) -> dict:
        average = round(self.rating_total / self.rating_count, 2) if self.rating_count else None
        return {"count": self.rating_count, "average": average}

    def refresh_min_price(self) -> None:
        self.min_price = min((s.price for s in self.skus), default=None)

    def has_stock(self) -> bool:
        return any(s.available > 0 for s in self.skus)

    def put_on_sale(self) -> bool:
        """Put on sale. Returns True when this changed the status."""
        if not self.has_stock():
            raise Conflict("A product with no SKU in stock cannot be listed", code="no_sellable_sku")
        if self.status == "listed":
            return False
        self.status, self.delisted_reason = "listed", None
        return True

    def delist(self, reason: str) -> bool:
        """Take off sale, by hand ("manual") or because nothing is left ("out_of_stock")."""
        if self.status == "delisted" and (self.delisted_reason == "manual" or reason != "manual"):
            return False
        if self.status == "draft" and reason != "manual":
            return False
        self.status, self.delisted_reason = "delisted", reason
        return True


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (Index("ix_skus_product_id_price", "product_id", "price"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    price: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="listed")
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=0)
    # Grows with every change SkuChanged reports (see sku_events.py).
    version: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="skus", lazy="joined", innerjoin=True)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.sold

    @property
    def stock(self) -> int:  # the public name (docs/design.md: "stock (available to sell)")
        return self.available

    def refresh_status(self) -> str | None:
        """Delist when nothing is left, relist when stock is back; returns the change, if any."""
        if self.status == "listed" and self.available <= 0:
            self.status = "delisted"
            return "depleted"
        if self.status == "delisted" and self.available > 0:
            self.status = "listed"
            return "replenished"
        return None


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (UniqueConstraint("order_id", "sku_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="reserved")  # reserved, released, sold
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockMovement(Base):
    __tablename__ = "stock_movements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # received, adjusted, reserved, released, sold, returned
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CancelledOrder(Base):
    """An order cancelled before its OrderPlaced was handled here (two workers may take the
    events out of order): a late OrderPlaced must then reserve nothing."""

    __tablename__ = "cancelled_orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewRating(Base):
    """The latest rating of each review catalog has heard of, so that an edit replaces its old
    rating in the product's summary, a hidden review leaves it, and a late or repeated event
    changes nothing."""

    __tablename__ = "review_ratings"

    review_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime | None] = mapped_column()
