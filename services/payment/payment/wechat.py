"""WeChat Pay API v3, our side of its protocol. Requests carry `Authorization:
WECHATPAY2-SHA256-RSA2048 ...` signed with the merchant key; WeChat Pay's answers and
notifications are verified with its platform public key (the Wechatpay-Timestamp, -Nonce and
-Signature headers over "timestamp\\nnonce\\nbody\\n"), and a notification's resource is
decrypted with AEAD_AES_256_GCM under the APIv3 key.

The crypto is the wechatpayv3 SDK's helpers, which work offline; its client is not used,
because it downloads the platform certificates when it starts.
"""
from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from pathlib import Path

import requests
from wechatpayv3 import utils

from .alipay import ProviderError
from .config import PaymentConfig

API = "https://api.mch.weixin.qq.com"
TIMEOUT = (2, 5)
log = logging.getLogger(__name__)

MAX_SKEW = 300  # seconds: an older signed message is a replay
PAID_STATES = ("SUCCESS",)
FAILED_STATES = ("CLOSED", "PAYERROR", "REVOKED")


@functools.cache
def _private_key(path: Path):
    return utils.load_private_key(path.read_text())


@functools.cache
def _public_key(path: Path):
    return utils.load_public_key(path.read_text())


def _nonce() -> str:
    return uuid.uuid4().hex.upper()


def verify(cfg: PaymentConfig, headers, body: str, now: float | None = None) -> bool:
    """Whether an answer or notification is WeChat Pay's, signed recently with its platform key."""
    timestamp, nonce = headers.get("Wechatpay-Timestamp", ""), headers.get("Wechatpay-Nonce", "")
    signature, serial = headers.get("Wechatpay-Signature", ""), headers.get("Wechatpay-Serial", "")
    if serial != cfg.wechat_platform_serial_no or not timestamp.isdigit() or not nonce or not signature:
        return False
    if abs((now or time.time()) - int(timestamp)) > MAX_SKEW:
        return False
    try:
        return utils.rsa_verify(timestamp, nonce, body, signature, _public_key(cfg.wechat_platform_public_key_file))
    except Exception as exc:  # no platform key configured, or a malformed one: nothing verifies
        log.warning("wechat pay signature check failed: %r", exc)
        return False


def decrypt(cfg: PaymentConfig, resource: dict) -> dict | None:
    """The notification's resource in clear, or None when it does not decrypt (tampered)."""
    if not isinstance(resource, dict) or resource.get("algorithm") != "AEAD_AES_256_GCM":
        return None
    try:
        clear = utils.aes_decrypt(resource["nonce"], resource["ciphertext"], resource.get("associated_data", ""),
                                  cfg.wechat_apiv3_key())
        return json.loads(clear) if clear else None
    except (KeyError, TypeError, ValueError, OSError):
        return None


def _call(cfg: PaymentConfig, path: str, payload: dict) -> dict:
    """A signed POST to WeChat Pay (the sandbox's in sandbox mode); its verified JSON answer."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        key = _private_key(cfg.wechat_merchant_private_key_file)
    except Exception as exc:  # the SDK raises a bare Exception for an unreadable key
        raise ProviderError(f"wechat pay merchant key is not configured: {exc}") from exc
    auth = utils.build_authorization(path, "POST", cfg.wechat_mchid, cfg.wechat_merchant_serial_no, key, data=body)
    if cfg.sandbox:
        from . import sandbox  # only the sandbox code path touches the sandbox

        status, headers, text = sandbox.wechat_api(cfg, "POST", path, auth, body)
    else:
        try:
            r = requests.post(API + path, data=body.encode(), timeout=TIMEOUT, headers={
                "Authorization": auth, "Content-Type": "application/json", "Accept": "application/json"})
        except requests.RequestException as exc:
            raise ProviderError(f"wechat pay unreachable: {exc!r}") from exc
        status, headers, text = r.status_code, r.headers, r.text
    if status not in (200, 204) or not verify(cfg, headers, text):
        raise ProviderError(f"wechat pay refused {path}: {status} {text[:200]}")
    return json.loads(text) if text else {}


def prepay(cfg: PaymentConfig, payment_id: str, amount: int, description: str) -> dict:
    """Open an APP trade; returns the prepay id and the signed parameters the app opens WeChat with."""
    answer = _call(cfg, "/v3/pay/transactions/app", {
        "appid": cfg.wechat_appid, "mchid": cfg.wechat_mchid, "description": description[:127],
        "out_trade_no": trade_no(payment_id), "notify_url": cfg.notify_url("wechat_pay"),
        "amount": {"total": amount, "currency": "CNY"}})
    prepay_id, timestamp, nonce = answer["prepay_id"], str(int(time.time())), _nonce()
    sign = utils.rsa_sign(_private_key(cfg.wechat_merchant_private_key_file),  # loaded by _call already
                          f"{cfg.wechat_appid}\n{timestamp}\n{nonce}\n{prepay_id}\n")
    return {"prepay_id": prepay_id, "appid": cfg.wechat_appid, "partnerid": cfg.wechat_mchid,
            "package": "Sign=WXPay", "noncestr": nonce, "timestamp": timestamp, "sign": sign}


def trade_no(payment_id: str) -> str:
    """WeChat's out_trade_no allows 32 characters: our uuid without its dashes."""
    return payment_id.replace("-", "")


def refund(cfg: PaymentConfig, payment_id: str, amount: int, total: int, refund_id: str) -> str:
    """Refund `amount` fen of a trade; `out_refund_no` = our refund id, so a retry refunds once."""
    answer = _call(cfg, "/v3/refund/domestic/refunds", {
        "out_trade_no": trade_no(payment_id), "out_refund_no": trade_no(refund_id),
        "amount": {"refund": amount, "total": total, "currency": "CNY"}})
    if answer.get("status") not in ("SUCCESS", "PROCESSING"):
        raise ProviderError(f"wechat pay refused the refund: {answer}")
    return answer.get("refund_id", "")


def payment_id_of(out_trade_no: str) -> str:
    """Our payment id back from WeChat's out_trade_no."""
    t = out_trade_no
    return f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}" if len(t) == 32 else t
