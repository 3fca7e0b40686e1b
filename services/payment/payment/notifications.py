"""Provider notifications: acted on only when genuine (the provider's signature, our app and
seller or merchant id, a known payment, the exact amount). A notification the provider signed
is kept for audit, accepted or not; one without a valid signature is only logged (a short
excerpt): the endpoint takes no credential, so storing whatever arrives would let anyone fill
the database, a MiB at a time. A replay is accepted and changes nothing, because a payment moves
out of `pending` once."""
from __future__ import annotations

import json
import logging

from sqlalchemy.orm import Session

from mall_shared.db import new_id

from . import alipay, services, wechat
from .config import PaymentConfig
from .models import Notification, Payment

log = logging.getLogger(__name__)


# ---- Alipay ----------------------------------------------------------------------------------
def receive_alipay_notification(session: Session, cfg: PaymentConfig, params: dict[str, str]) -> bool:
    """Act on Alipay's asynchronous notification only when it is genuine: a valid signature, our
    app id and seller id, a known payment and the exact amount. Returns whether it was accepted
    (a replay is accepted and changes nothing)."""
    if not alipay.verify(cfg, params):
        _unsigned("alipay", params)
        return False
    note = Notification(id=new_id(), provider="alipay", payment_id=params.get("out_trade_no", "")[:64] or None,
                        raw=params, verified=False, outcome="")
    session.add(note)
    note.outcome = _check_alipay(session, cfg, params)
    if note.outcome.startswith("rejected"):
        log.warning("alipay notification %s: %s", note.id, note.outcome)
        return False
    note.verified = True
    payment = session.get(Payment, params["out_trade_no"], with_for_update=True)
    status = params.get("trade_status")
    if status in alipay.PAID_STATUSES:
        note.outcome = services.confirm_payment(session, cfg, payment, params.get("trade_no"))
    elif status == alipay.CLOSED_STATUS:
        note.outcome = services.fail_payment(session, payment, "trade closed by alipay")
    else:
        note.outcome = f"noted: {status}"
    return True


def _unsigned(provider: str, raw) -> None:
    """Log (never store) a notification without a valid signature: a short excerpt only."""
    log.warning("%s notification rejected: invalid signature (not stored): %.200r", provider, raw)


def _check_alipay(session: Session, cfg: PaymentConfig, params: dict[str, str]) -> str:
    """The checks after the signature: is it for us (app and seller), and for what we asked?"""
    if params.get("app_id") != cfg.alipay_app_id:
        return "rejected: foreign app_id"
    if params.get("seller_id") != cfg.alipay_seller_id:
        return "rejected: foreign seller_id"  # signed by Alipay, but money paid to another merchant
    payment = session.get(Payment, params.get("out_trade_no", ""))
    if payment is None or payment.method != "alipay":
        return "rejected: unknown out_trade_no"
    try:
        amount = alipay.to_fen(params.get("total_amount", ""))
    except ValueError:
        return "rejected: malformed total_amount"
    if amount != payment.amount:
        return f"rejected: total_amount {amount} does not match {payment.amount}"
    return "ok"


# ---- WeChat Pay (API v3) ---------------------------------------------------------------------
WECHAT_HEADERS = ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature")


def receive_wechat_notification(session: Session, cfg: PaymentConfig, headers, body: str) -> bool:
    """Act on WeChat Pay's notification: signed headers over the raw body, and a resource that
    decrypts under our APIv3 key (AES-256-GCM also proves it was not altered)."""
    raw = {"headers": {h: headers.get(h, "")[:1000] for h in WECHAT_HEADERS}, "body": body}
    if not wechat.verify(cfg, headers, body):
        _unsigned("wechat pay", raw)
        return False
    note = Notification(id=new_id(), provider="wechat_pay", raw=raw, verified=False, outcome="")
    session.add(note)
    resource, note.outcome = _check_wechat(session, cfg, headers, body)
    note.payment_id = wechat.payment_id_of(str(resource.get("out_trade_no") or ""))[:64] or None
    if note.outcome.startswith("rejected"):
        log.warning("wechat pay notification %s: %s", note.id, note.outcome)
        return False
    note.verified = True
    note.raw = {**note.raw, "resource": resource}
    payment = session.get(Payment, note.payment_id, with_for_update=True)
    state = resource.get("trade_state")
    if state in wechat.PAID_STATES:
        note.outcome = services.confirm_payment(session, cfg, payment, resource.get("transaction_id"))
    elif state in wechat.FAILED_STATES:
        note.outcome = services.fail_payment(session, payment, f"wechat pay trade {state.lower()}")
    else:
        note.outcome = f"noted: {state}"
    return True


def _check_wechat(session: Session, cfg: PaymentConfig, headers, body: str) -> tuple[dict, str]:
    try:
        envelope = json.loads(body)
    except ValueError:
        return {}, "rejected: body is not JSON"
    resource = wechat.decrypt(cfg, envelope.get("resource") if isinstance(envelope, dict) else None)
    if not isinstance(resource, dict):
        return {}, "rejected: resource does not decrypt"
    if resource.get("appid") != cfg.wechat_appid or resource.get("mchid") != cfg.wechat_mchid:
        return resource, "rejected: foreign appid or mchid"
    payment = session.get(Payment, wechat.payment_id_of(str(resource.get("out_trade_no", ""))))
    if payment is None or payment.method != "wechat_pay":
        return resource, "rejected: unknown out_trade_no"
    total = (resource.get("amount") or {}).get("total")
    if total != payment.amount:
        return resource, f"rejected: amount {total} does not match {payment.amount}"
    return resource, "ok"
