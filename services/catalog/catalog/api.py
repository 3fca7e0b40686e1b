"""catalog's HTTP API. Thin views: validate, open a transaction, call one use case, return."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import PageArgs, page_schema, paginate, transaction
from mall_shared.auth import current_identity, requires

from . import inventory, services
from .schemas import (
    CategorySchema,
    CategoryUpdateSchema,
    MovementSchema,
    ProductSchema,
    ProductSearchArgs,
    ProductUpdateSchema,
    SkuDetailSchema,
    SkuIdsArgs,
    SkuSchema,
    SkuUpdateSchema,
    StockChangeSchema,
)

categories = Blueprint("categories", __name__, url_prefix="/api/catalog/categories", description="Categories")
products = Blueprint("products", __name__, url_prefix="/api/catalog/products", description="Products")
skus = Blueprint("skus", __name__, url_prefix="/api/catalog/skus", description="SKUs and inventory")
blueprints = [categories, products, skus]


def _is_staff() -> bool:
    identity = current_identity()
    return bool(identity and identity.is_staff)


@categories.route("")
class Categories(MethodView):
    @categories.response(200, CategorySchema(many=True))
    def get(self):
        """List all categories"""
        with transaction() as session:
            return services.list_categories(session)

    @requires("staff")
    @categories.arguments(CategorySchema)
    @categories.response(201, CategorySchema)
    def post(self, data):
        """Create a category (staff)"""
        with transaction() as session:
            return services.create_category(session, **data)


@categories.route("/<category_id>")
class CategoryDetail(MethodView):
    @categories.response(200, CategorySchema)
    def get(self, category_id):
        """A category"""
        with transaction() as session:
            return services.get_category(session, category_id)

    @requires("staff")
    @categories.arguments(CategoryUpdateSchema)
    @categories.response(200, CategorySchema)
    def patch(self, changes, category_id):
        """Rename, reorder or move a category (staff)"""
        with transaction() as session:
            return services.update_category(session, category_id, changes)

    @requires("staff")
    @categories.response(204)
    def delete(self, category_id):
        """Delete an empty category (staff)"""
        with transaction() as session:
            services.delete_category(session, category_id)


@products.route("")
class Products(MethodView):
    @products.arguments(ProductSearchArgs, location="query")
    @products.response(200, page_schema(ProductSchema))
    def get(self, args):
        """Search products (customers see listed products only)"""
        with transaction() as session:
            stmt = services.search_products(session, args, staff=_is_staff())
            return paginate(session, stmt, args["page"], args["per_page"])

    @requires("staff")
    @products.arguments(ProductSchema)
    @products.response(201, ProductSchema)
    def post(self, data):
        """Create a draft product with its SKUs (staff)"""
        with transaction() as session:
            return services.create_product(session, data)


@products.route("/<product_id>")
class ProductDetail(MethodView):
    @products.response(200, ProductSchema)
    def get(self, product_id):
        """A product with its SKUs and what each has available"""
        staff = _is_staff()
        with transaction() as session:
            product = services.get_product(session, product_id, staff=staff)
        if not staff:  # a shopper's page view, counted in memory and published in batches
            current_app.extensions["catalog_views"].count(product.id)
        return product


    @requires("staff")
    @products.arguments(ProductUpdateSchema)
    @products.response(200, ProductSchema)
    def patch(self, changes, product_id):
        """Edit a product (staff)"""
        with transaction() as session:
            return services.update_product(session, product_id, changes)


@products.route("/<product_id>/skus")
class ProductSkus(MethodView):
    @requires("staff")
    @products.arguments(SkuSchema)
    @products.response(201, SkuDetailSchema)
    def post(self, data, product_id):
        """Add a SKU to a product (staff)"""
        with transaction() as session:
            return services.add_sku(session, product_id, data)


@products.route("/<product_id>/list")
class ListProduct(MethodView):
    @requires("staff")
    @products.response(200, ProductSchema)
    def post(self, product_id):
        """Put a product on sale (staff)"""
        with transaction() as session:
            return services.list_product(session, product_id)


@products.route("/<product_id>/delist")
class DelistProduct(MethodView):
    @requires("staff")
    @products.response(200, ProductSchema)
    def post(self, product_id):
        """Take a product off sale (staff)"""
        with transaction() as session:
            return services.delist_product(session, product_id)


@skus.route("")
class Skus(MethodView):
    @skus.arguments(SkuIdsArgs, location="query")
    @skus.response(200, SkuDetailSchema(many=True))
    def get(self, args):
        """SKUs by id, with price, availability and their product's status (used at checkout)"""
        with transaction() as session:
            return inventory.get_skus(session, args["ids"], staff=_is_staff())


@skus.route("/low-stock")
class LowStock(MethodView):
    @requires("staff")
    @skus.arguments(PageArgs, location="query")
    @skus.response(200, page_schema(SkuDetailSchema))
    def get(self, args):
        """SKUs at or below their low-stock threshold (staff)"""
        with transaction() as session:
            return paginate(session, inventory.low_stock(session), args["page"], args["per_page"])


@skus.route("/<sku_id>")
class SkuDetail(MethodView):
    @requires("staff")
    @skus.arguments(SkuUpdateSchema)
    @skus.response(200, SkuDetailSchema)
    def patch(self, changes, sku_id):
        """Change a SKU's price, attributes or low-stock threshold (staff); orders keep their price"""
        with transaction() as session:
            return services.update_sku(session, sku_id, changes)


@skus.route("/<sku_id>/stock")
class Stock(MethodView):
    @requires("staff")
    @skus.arguments(StockChangeSchema)
    @skus.response(200, SkuDetailSchema)
    def post(self, data, sku_id):
        """Receive stock, or adjust it with a reason (staff)"""
        with transaction() as session:
            return inventory.change_stock(session, sku_id, data["kind"], data["quantity"], data["reason"])


@skus.route("/<sku_id>/movements")
class Movements(MethodView):
    @requires("staff")
    @skus.arguments(PageArgs, location="query")
    @skus.response(200, page_schema(MovementSchema))
    def get(self, args, sku_id):
        """The stock movements that explain a SKU's numbers (staff)"""
        with transaction() as session:
            return paginate(session, inventory.list_movements(session, sku_id), args["page"], args["per_page"])
