"""mall crm: customers and staff accounts, profiles, purchase history, membership."""
