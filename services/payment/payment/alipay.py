"""Alipay, our side of its protocol, through the maintained SDK (python-alipay-sdk): the pay
request signed RSA2 (SHA256withRSA over the sorted `k=v&...` parameters) and the asynchronous
notification verified with Alipay's public key. Signing and verifying need no network."""
from __future__ import annotations

import functools
import logging
import re
from decimal import Decimal
from pathlib import Path

from alipay import AliPay

from .config import PaymentConfig

log = logging.getLogger(__name__)

PAID_STATUSES = ("TRADE_SUCCESS", "TRADE_FINISHED")
CLOSED_STATUS = "TRADE_CLOSED"
_YUAN = re.compile(r"^(0|[1-9]\d{0,9})(\.\d{1,2})?$")


class ProviderError(Exception):
    """The provider refused or could not be reached; the caller decides (retry or 503)."""


def to_yuan(fen: int) -> str:
    """Alipay's amount format: yuan with two decimals (39900 -> "399.00")."""
    if fen < 0:
        raise ValueError("negative amount")
    return f"{fen // 100}.{fen % 100:02d}"


def to_fen(yuan: str) -> int:
    """Parse Alipay's yuan string exactly (no floats); ValueError for anything else."""
    if not isinstance(yuan, str) or not _YUAN.match(yuan):
        raise ValueError(f"not an amount: {yuan!r}")
    return int(Decimal(yuan) * 100)


@functools.cache
def _client(app_id: str, app_private_key_file: Path, alipay_public_key_file: Path) -> AliPay:
    return AliPay(appid=app_id, app_private_key_string=app_private_key_file.read_text(),
                  alipay_public_key_string=alipay_public_key_file.read_text(), sign_type="RSA2")


def client(cfg: PaymentConfig) -> AliPay:
    try:
        return _client(cfg.alipay_app_id, cfg.alipay_app_private_key_file, cfg.alipay_public_key_file)
    except (OSError, ValueError) as exc:  # keys missing or unreadable: a configuration problem, not a 500
        raise ProviderError(f"alipay keys are not configured: {exc}") from exc


def order_string(cfg: PaymentConfig, payment_id: str, amount: int, subject: str) -> str:
    """The signed `alipay.trade.page.pay` order string the client hands to Alipay."""
    return client(cfg).api_alipay_trade_page_pay(
        subject=subject, out_trade_no=payment_id, total_amount=to_yuan(amount),
        notify_url=cfg.notify_url("alipay"))


def verify(cfg: PaymentConfig, params: dict[str, str]) -> bool:
    """Whether `params` carry Alipay's valid RSA2 signature (sign and sign_type are not signed)."""
    data = dict(params)
    signature = data.pop("sign", None)
    if not signature:
        return False
    try:
        return bool(client(cfg).verify(data, signature))
    except Exception as exc:  # a malformed signature or a foreign sign_type is simply not valid
        log.warning("alipay signature check failed: %r", exc)
        return False


def refund(cfg: PaymentConfig, payment_id: str, amount: int, refund_id: str) -> str:
    """Ask Alipay to refund `amount` fen of a trade; returns its trade reference.
    `out_request_no` = our refund id, so a retried call refunds once."""
    if cfg.sandbox:
        from . import sandbox  # only the sandbox code path touches the sandbox

        answer = sandbox.alipay_refund(payment_id, amount, refund_id)
    else:
        try:
            answer = client(cfg).api_alipay_trade_refund(
                refund_amount=to_yuan(amount), out_trade_no=payment_id, out_request_no=refund_id)
        except Exception as exc:
            raise ProviderError(f"alipay refund call failed: {exc!r}") from exc
    if answer.get("code") != "10000":
        raise ProviderError(f"alipay refused the refund: {answer.get('sub_msg') or answer.get('msg')}")
    return answer.get("trade_no") or ""
