"""Alipay's protocol on our side (the SDK) against the sandbox's independent signer: no
database, no network."""
import base64
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from payment import alipay, sandbox
from payment.config import PaymentConfig


def wechat_settings(keys: Path) -> dict:
    return {"wechat_appid": "wx1", "wechat_mchid": "190001", "wechat_merchant_serial_no": "M1",
            "wechat_merchant_private_key_file": keys / "wx_merchant.pem", "wechat_platform_serial_no": "P1",
            "wechat_platform_public_key_file": keys / "wx_platform_public.pem",
            "wechat_sandbox_platform_private_key_file": keys / "wx_platform_private.pem",
            "wechat_apiv3_key_file": keys / "wx_apiv3.key"}


@pytest.fixture(scope="module")
def cfg(tmp_path_factory) -> PaymentConfig:
    keys = tmp_path_factory.mktemp("alipay-keys")
    cfg = PaymentConfig(sandbox=True, url="http://payment.test", alipay_app_id="2021000000000001",
                        alipay_seller_id="2088000000000001",
                        alipay_app_private_key_file=keys / "app_private.pem",
                        alipay_public_key_file=keys / "alipay_public.pem",
                        alipay_sandbox_private_key_file=keys / "alipay_sandbox_private.pem",
                        **wechat_settings(keys), generate_keys=("alipay", "app", "wechat", "wechat_merchant",
                                                                 "wechat_apiv3"))
    sandbox.ensure_keys(cfg)
    return cfg


def test_fen_become_alipays_yuan_string_and_back():
    assert alipay.to_yuan(79800) == "798.00"
    assert alipay.to_yuan(5) == "0.05"
    assert alipay.to_yuan(0) == "0.00"
    assert alipay.to_fen("798.00") == 79800
    assert alipay.to_fen("0.05") == 5
    assert alipay.to_fen("12.3") == 1230
    assert alipay.to_fen("7") == 700


@pytest.mark.parametrize("text", ["", "-1.00", "1.001", "1e3", "01.00", " 1.00", "1,00", "NaN", "１.00"])
def test_anything_but_a_plain_yuan_amount_is_refused(text):
    with pytest.raises(ValueError):
        alipay.to_fen(text)


def test_a_notification_signed_by_alipay_verifies(cfg):
    params = sandbox.notification(cfg, "pay-1", 79800, "success")
    assert params["sign_type"] == "RSA2"
    assert alipay.verify(cfg, params) is True


def test_a_forged_signature_does_not_verify(cfg):
    params = sandbox.notification(cfg, "pay-1", 79800, "success")
    other = sandbox.notification(cfg, "pay-2", 79800, "success")
    assert alipay.verify(cfg, {**params, "sign": other["sign"]}) is False
    assert alipay.verify(cfg, {**params, "sign": "not base64!"}) is False
    assert alipay.verify(cfg, {k: v for k, v in params.items() if k != "sign"}) is False


def test_a_tampered_amount_breaks_the_signature(cfg):
    params = sandbox.notification(cfg, "pay-1", 79800, "success")
    assert alipay.verify(cfg, {**params, "total_amount": "0.01"}) is False


def test_a_notification_signed_with_the_apps_own_key_is_not_alipays(cfg, monkeypatch):
    # Someone holding a key that is not Alipay's (here: ours) cannot pass as Alipay.
    monkeypatch.setattr(sandbox, "_private_key", lambda _path: sandbox.serialization.load_pem_private_key(
        cfg.alipay_app_private_key_file.read_bytes(), password=None))
    assert alipay.verify(cfg, sandbox.notification(cfg, "pay-1", 100, "success")) is False


def test_the_order_string_is_a_signed_page_pay_request_for_the_payment(cfg):
    text = alipay.order_string(cfg, "pay-1", 79800, "mall order o-1")
    params = dict(parse_qsl(text))
    assert params["method"] == "alipay.trade.page.pay"
    assert params["sign_type"] == "RSA2"
    assert params["notify_url"] == "http://payment.test/api/payments/notify/alipay"
    assert '"out_trade_no":"pay-1"' in params["biz_content"]
    assert '"total_amount":"798.00"' in params["biz_content"]
    # Alipay checks it with the app's public key; in a request only `sign` is left out.
    public = serialization.load_pem_public_key(
        cfg.alipay_app_private_key_file.with_name("alipay_app_public.pem").read_bytes())
    signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
    public.verify(base64.b64decode(params["sign"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_keys_created_twice_stay_the_first_ones(cfg):
    before = cfg.alipay_public_key_file.read_bytes()
    sandbox.ensure_keys(cfg)
    assert cfg.alipay_public_key_file.read_bytes() == before


def _ensure(cfg: PaymentConfig) -> None:
    sandbox.ensure_keys(cfg)


def test_processes_starting_at_once_agree_on_one_key_pair(tmp_path):
    import multiprocessing

    from cryptography.hazmat.primitives.asymmetric import rsa

    cfg = PaymentConfig(sandbox=True, url="http://payment.test", alipay_app_id="a", alipay_seller_id="s",
                        alipay_app_private_key_file=tmp_path / "app.pem", alipay_public_key_file=tmp_path / "pub.pem",
                        alipay_sandbox_private_key_file=tmp_path / "sandbox.pem", **wechat_settings(tmp_path),
                        generate_keys=("alipay", "wechat_apiv3"))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_ensure, args=(cfg,)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    private = serialization.load_pem_private_key((tmp_path / "sandbox.pem").read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert (tmp_path / "pub.pem").read_bytes() == private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert len((tmp_path / "wx_apiv3.key").read_text()) == 32
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]  # no temp files left behind
