"""The sandbox providers (only with MALL_SANDBOX=1): they play Alipay's and WeChat Pay's servers. It builds the
asynchronous notification Alipay would send, signs it with the sandbox "Alipay" private key and
POSTs it over HTTP to our notify endpoint, where it meets the same checks as a real one.

The signing here is written with `cryptography`, independently of the SDK that verifies, so
the two sides of the protocol check each other. Only this module reads the sandbox private key.
"""
from __future__ import annotations

import base64
import fcntl
import functools
import json
import os
import secrets
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mall_shared.config import data_dir
from mall_shared.db import new_id

from .alipay import to_yuan
from .config import PaymentConfig

TIMEOUT = (2, 5)  # connect, read: never hang on our own notify endpoint
CHINA = timedelta(hours=8)  # Alipay's timestamps are Beijing time


# ---- keys ------------------------------------------------------------------------------------
def _create_once(path: Path, content: bytes) -> None:
    """Write `content` to `path` unless the file exists. The temp file is linked into place,
    which fails if another process got there first: all processes then use the winner's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.write(fd, content)
        os.fsync(fd)
        os.close(fd)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _ensure_pair(private_file: Path, public_file: Path) -> None:
    if not private_file.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _create_once(private_file, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    # Derived from whichever private key won, so every process writes the same public key.
    key = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
    _create_once(public_file, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def ensure_keys(cfg: PaymentConfig) -> None:
    """Create the key pairs that are not configured: "Alipay's" and the app's."""
    if "alipay" in cfg.generate_keys:
        _ensure_pair(cfg.alipay_sandbox_private_key_file, cfg.alipay_public_key_file)
    if "app" in cfg.generate_keys:
        app_public = cfg.alipay_app_private_key_file.with_name("alipay_app_public.pem")
        _ensure_pair(cfg.alipay_app_private_key_file, app_public)
    if "wechat" in cfg.generate_keys:
        _ensure_pair(cfg.wechat_sandbox_platform_private_key_file, cfg.wechat_platform_public_key_file)
    if "wechat_merchant" in cfg.generate_keys:
        _ensure_pair(cfg.wechat_merchant_private_key_file, merchant_public_key_file(cfg))
    if "wechat_apiv3" in cfg.generate_keys and not cfg.wechat_apiv3_key_file.exists():
        _create_once(cfg.wechat_apiv3_key_file, secrets.token_hex(16).encode())  # 32 characters


def merchant_public_key_file(cfg: PaymentConfig) -> Path:
    """The merchant's public key, which WeChat Pay (here: the sandbox) checks our requests with."""
    return cfg.wechat_merchant_private_key_file.with_name("wechat_merchant_public.pem")


@functools.cache
def _private_key(path: Path) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


# ---- Alipay's side of the protocol -----------------------------------------------------------
def unsigned_string(params: dict[str, str]) -> str:
    """Alipay's string to sign: every parameter but sign and sign_type, sorted, `k=v&...`."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type"))


def sign(cfg: PaymentConfig, params: dict[str, str]) -> dict[str, str]:
    """The parameters with Alipay's RSA2 signature added, as Alipay's server signs them."""
    key = _private_key(cfg.alipay_sandbox_private_key_file)
    signature = key.sign(unsigned_string(params).encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**params, "sign_type": "RSA2", "sign": base64.b64encode(signature).decode()}


def _beijing(at: datetime) -> str:
    return (at.astimezone(UTC) + CHINA).strftime("%Y-%m-%d %H:%M:%S")


def notification(cfg: PaymentConfig, payment_id: str, amount: int, outcome: str,
                 trade_no: str | None = None) -> dict[str, str]:
    """The signed asynchronous notification Alipay sends for a paid ("success") or closed trade."""
    now = datetime.now(UTC)
    params = {
        "notify_time": _beijing(now), "notify_type": "trade_status_sync", "notify_id": new_id().replace("-", ""),
        "charset": "utf-8", "version": "1.0", "app_id": cfg.alipay_app_id,
        "trade_no": trade_no or now.strftime("%Y%m%d") + new_id().replace("-", "")[:20],
        "out_trade_no": payment_id, "total_amount": to_yuan(amount), "subject": f"mall payment {payment_id}",
        "gmt_create": _beijing(now), "buyer_id": "2088000000000000", "seller_id": cfg.alipay_seller_id,
    }
    if outcome == "success":
        params.update(trade_status="TRADE_SUCCESS", receipt_amount=to_yuan(amount),
                      buyer_pay_amount=to_yuan(amount), gmt_payment=_beijing(now))
    else:
        params.update(trade_status="TRADE_CLOSED", gmt_close=_beijing(now))
    return sign(cfg, params)


def deliver(cfg: PaymentConfig, params: dict[str, str]) -> tuple[int, str]:
    """POST a notification to our notify endpoint as Alipay does (form-encoded); its answer."""
    response = requests.post(cfg.notify_url("alipay"), data=params, timeout=TIMEOUT)
    return response.status_code, response.text


def alipay_refund(payment_id: str, amount: int, refund_id: str) -> dict[str, str]:
    """Alipay's answer to `alipay.trade.refund`: the sandbox approves every refund, and moves the
    money once per `out_request_no` (asked again, `fund_change` is "N")."""
    moved = refund_once("alipay", payment_id, refund_id, amount)
    return {"code": "10000", "msg": "Success", "out_trade_no": payment_id, "refund_fee": to_yuan(amount),
            "fund_change": "Y" if moved else "N", "out_request_no": refund_id,
            "trade_no": f"sandbox-{payment_id[:8]}"}


# ---- every sandbox provider's books ----------------------------------------------------------
def refund_ledger() -> Path:
    return data_dir() / "sandbox" / "refunds.jsonl"


def refund_once(provider: str, trade: str, request_no: str, amount: int) -> bool:
    """What a provider does with a refund request: money moves once per request number (Alipay's
    `out_request_no`, WeChat Pay's `out_refund_no`, the acquirer's refund id); a request asked again
    is answered alike without moving money. Each request is a line of `refund_ledger()` (shared by
    every process, under a file lock), so tests count what the provider saw. True if money moved."""
    path = refund_ledger()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as ledger:
        fcntl.flock(ledger, fcntl.LOCK_EX)
        ledger.seek(0)
        seen = any(e["provider"] == provider and e["request_no"] == request_no for e in map(json.loads, ledger))
        ledger.write(json.dumps({"provider": provider, "trade": trade, "request_no": request_no, "amount": amount,
                                 "moved": not seen}) + "\n")
    return not seen


# ---- WeChat Pay's side of API v3 -----------------------------------------------------------------
def _wechat_signed(cfg: PaymentConfig, body: str) -> dict[str, str]:
    """The headers WeChat Pay signs its answers and notifications with (its platform key)."""
    timestamp, nonce = str(int(datetime.now(UTC).timestamp())), new_id().replace("-", "")
    key = _private_key(cfg.wechat_sandbox_platform_private_key_file)
    signature = key.sign(f"{timestamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256())
    return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": cfg.wechat_platform_serial_no,
            "Wechatpay-Signature": base64.b64encode(signature).decode(), "Content-Type": "application/json"}


def _merchant_signed(cfg: PaymentConfig, method: str, path: str, authorization: str, body: str) -> bool:
    """WeChat Pay's check of our request: the Authorization header, signed with the merchant key."""
    scheme, _, rest = authorization.partition(" ")
    fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
    fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
    if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != cfg.wechat_mchid:
        return False
    public = serialization.load_pem_public_key(merchant_public_key_file(cfg).read_bytes())
    message = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n".encode()
    try:
        public.verify(base64.b64decode(fields.get("signature", "")), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def wechat_api(cfg: PaymentConfig, method: str, path: str, authorization: str, body: str) -> tuple[int, dict, str]:
    """WeChat Pay's server answering a signed API call: (status, headers, body)."""
    if not _merchant_signed(cfg, method, path, authorization, body):
        return 401, {}, json.dumps({"code": "SIGN_ERROR", "message": "signature does not verify"})
    request = json.loads(body)
    if path == "/v3/pay/transactions/app":
        answer = {"prepay_id": "wx" + new_id().replace("-", "")[:30]}
    elif path == "/v3/refund/domestic/refunds":
        refund_once("wechat_pay", request["out_trade_no"], request["out_refund_no"], request["amount"]["refund"])
        answer = {"refund_id": "50" + new_id().replace("-", "")[:28], "out_refund_no": request["out_refund_no"],
                  "status": "SUCCESS", "amount": request["amount"]}
    else:
        return 404, {}, json.dumps({"code": "NOT_FOUND", "message": path})
    text = json.dumps(answer, separators=(",", ":"))
    return 200, _wechat_signed(cfg, text), text


def wechat_notification(cfg: PaymentConfig, payment_id: str, amount: int, outcome: str) -> tuple[dict, str]:
    """The notification WeChat Pay sends: signed headers and a body whose resource is encrypted
    with AES-256-GCM under the APIv3 key. (WeChat notifies successes; the sandbox also sends a
    PAYERROR one for the "failure" outcome.)"""
    from .wechat import trade_no

    now = datetime.now(UTC).astimezone(timezone(CHINA)).isoformat(timespec="seconds")
    clear = {"appid": cfg.wechat_appid, "mchid": cfg.wechat_mchid, "out_trade_no": trade_no(payment_id),
             "transaction_id": "42" + new_id().replace("-", "")[:26], "trade_type": "APP",
             "trade_state": "SUCCESS" if outcome == "success" else "PAYERROR",
             "trade_state_desc": "支付成功" if outcome == "success" else "支付失败", "success_time": now,
             "payer": {"openid": "sandbox-openid"},
             "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"}}
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat's
    ciphertext = AESGCM(cfg.wechat_apiv3_key().encode()).encrypt(
        nonce.encode(), json.dumps(clear, ensure_ascii=False).encode(), b"transaction")
    body = json.dumps({
        "id": new_id(), "create_time": now, "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS" if outcome == "success" else "TRANSACTION.FAIL",
        "summary": clear["trade_state_desc"],
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "associated_data": "transaction",
                     "nonce": nonce, "ciphertext": base64.b64encode(ciphertext).decode()},
    }, ensure_ascii=False, separators=(",", ":"))
    return _wechat_signed(cfg, body), body


def deliver_wechat(cfg: PaymentConfig, headers: dict, body: str) -> tuple[int, str]:
    """POST a notification to our WeChat Pay notify endpoint, as WeChat Pay does; its answer."""
    response = requests.post(cfg.notify_url("wechat_pay"), data=body.encode(), headers=headers, timeout=TIMEOUT)
    return response.status_code, response.text
