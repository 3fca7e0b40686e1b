"""WeChat Pay API v3 on our side (the SDK's crypto helpers) against the sandbox's independent
server side: signatures over headers and body, AES-256-GCM resources. No database, no network."""
import base64
import dataclasses
import json
import time

import pytest

from payment import sandbox, wechat
from payment.config import PaymentConfig

from .test_alipay import cfg as cfg  # noqa: F401  (the same sandbox keys)


def test_a_notification_from_wechat_pay_verifies_and_decrypts(cfg):  # noqa: F811
    headers, body = sandbox.wechat_notification(cfg, "11111111-2222-3333-4444-555555555555", 79800, "success")
    assert wechat.verify(cfg, headers, body)
    resource = wechat.decrypt(cfg, json.loads(body)["resource"])
    assert resource["out_trade_no"] == "11111111222233334444555555555555"
    assert wechat.payment_id_of(resource["out_trade_no"]) == "11111111-2222-3333-4444-555555555555"
    assert (resource["trade_state"], resource["amount"]["total"]) == ("SUCCESS", 79800)


def test_a_changed_body_or_forged_signature_does_not_verify(cfg):  # noqa: F811
    headers, body = sandbox.wechat_notification(cfg, "p1", 100, "success")
    other_headers, _ = sandbox.wechat_notification(cfg, "p2", 100, "success")
    assert not wechat.verify(cfg, headers, body.replace('"summary"', '"Summary"'))
    assert not wechat.verify(cfg, {**headers, "Wechatpay-Signature": other_headers["Wechatpay-Signature"]}, body)
    assert not wechat.verify(cfg, {**headers, "Wechatpay-Serial": "someone-else"}, body)


def test_a_stale_notification_is_a_replay(cfg):  # noqa: F811
    headers, body = sandbox.wechat_notification(cfg, "p1", 100, "success")
    assert not wechat.verify(cfg, headers, body, now=time.time() + wechat.MAX_SKEW + 60)


def test_a_tampered_ciphertext_does_not_decrypt(cfg):  # noqa: F811
    _headers, body = sandbox.wechat_notification(cfg, "p1", 100, "success")
    resource = json.loads(body)["resource"]
    raw = bytearray(base64.b64decode(resource["ciphertext"]))
    raw[5] ^= 1
    assert wechat.decrypt(cfg, {**resource, "ciphertext": base64.b64encode(bytes(raw)).decode()}) is None
    assert wechat.decrypt(cfg, {**resource, "ciphertext": "%%%"}) is None
    assert wechat.decrypt(cfg, {**resource, "algorithm": "NONE"}) is None


def test_the_prepay_request_is_signed_and_the_app_params_too(cfg: PaymentConfig):  # noqa: F811
    params = wechat.prepay(cfg, "11111111-2222-3333-4444-555555555555", 79800, "mall order o-1")
    assert params["prepay_id"].startswith("wx") and params["package"] == "Sign=WXPay"
    message = f"{params['appid']}\n{params['timestamp']}\n{params['noncestr']}\n{params['prepay_id']}\n"
    public = sandbox.serialization.load_pem_public_key(sandbox.merchant_public_key_file(cfg).read_bytes())
    public.verify(base64.b64decode(params["sign"]), message.encode(), sandbox.padding.PKCS1v15(),
                  sandbox.hashes.SHA256())


def test_wechat_pay_refuses_a_request_not_signed_by_the_merchant(cfg):  # noqa: F811
    status, _headers, text = sandbox.wechat_api(cfg, "POST", "/v3/pay/transactions/app",
                                                'WECHATPAY2-SHA256-RSA2048 mchid="190001",signature="eA=="', "{}")
    assert status == 401 and "SIGN_ERROR" in text
    # Signed with a key that is not the merchant's (here: the Alipay app key).
    stranger = dataclasses.replace(cfg, wechat_merchant_private_key_file=cfg.alipay_app_private_key_file)
    with pytest.raises(wechat.ProviderError):
        wechat._call(stranger, "/v3/pay/transactions/app", {})
