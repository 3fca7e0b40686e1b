"""catalog: categories, products and SKUs, listing, stock and its movements."""
from . import sku_events  # noqa: F401  (registers the one place SkuChanged is published)
