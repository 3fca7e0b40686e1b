"""mall web: the storefront (/) and the admin console (/admin/)."""
