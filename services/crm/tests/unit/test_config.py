"""crm's settings come from the environment, with documented defaults."""
import pytest

from crm.config import CrmConfig


def test_defaults():
    cfg = CrmConfig.load({})
    assert (cfg.access_token_ttl, cfg.points_per_yuan, cfg.tier_thresholds) == (900, 1, (0, 1000, 5000, 20000))
    assert (cfg.login_max_failures, cfg.login_lock_seconds) == (5, 900)
    assert cfg.jwt_private_key_file.name == "jwt_private.pem"


def test_settings_are_read_from_their_variables():
    cfg = CrmConfig.load({"CRM_ACCESS_TOKEN_TTL": "60", "CRM_POINTS_PER_YUAN": "2",
                          "CRM_TIER_THRESHOLDS": "0,10,20,30", "CRM_JWT_PRIVATE_KEY": "PEM",
                          "MALL_ADMIN_EMAIL": "Admin@Mall.Local", "MALL_ADMIN_PASSWORD": "pw"})
    assert (cfg.access_token_ttl, cfg.points_per_yuan, cfg.tier_thresholds) == (60, 2, (0, 10, 20, 30))
    assert cfg.jwt_private_key() == "PEM"
    assert (cfg.admin_email, cfg.admin_password) == ("admin@mall.local", "pw")


@pytest.mark.parametrize("value", ["0,1000,5000", "0,5000,1000,20000", "10,20,30,40"])
def test_tier_thresholds_must_be_four_increasing_numbers_from_zero(value):
    with pytest.raises(ValueError):
        CrmConfig.load({"CRM_TIER_THRESHOLDS": value})
