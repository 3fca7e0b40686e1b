"""Provider notifications: acted on only when genuine (the provider's signature, our app or
merchant id, a known payment, the exact amount). Every notification is kept for audit, verified
or not; a rejected one is logged and changes nothing else. A replay is accepted and changes
nothing, because a payment moves out of `pending` once."""
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
    app id, a known payment and the exact amount. Every notification is kept for audit. Returns
    whether it was accepted (a replay is accepted and changes nothing)."""
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


def _check_alipay(session: Session, cfg: PaymentConfig, params: dict[str, str]) -> str:
    if not alipay.verify(cfg, params):
        return "rejected: invalid signature"
    if params.get("app_id") != cfg.alipay_app_id:
        return "rejected: foreign app_id"
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
    if not wechat.verify(cfg, headers, body):
        return {}, "rejected: invalid or stale signature"
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
