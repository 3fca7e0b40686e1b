"""Cards, tokenized: the number is checked (Luhn, expiry) and turned into a token at once; only
the brand and last four digits are kept. The number is never stored, logged or echoed.

The acquirer is the sandbox's (MALL_SANDBOX=1), whose test cards decide the outcome as the
usual test cards do: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined. Without
the sandbox no acquirer is configured, and card payments are refused as unavailable.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .alipay import ProviderError
from .config import PaymentConfig

DECLINED_TEST_CARDS = {"4000000000000002"}


class CardUnavailable(ProviderError):
    """No card acquirer is configured (outside the sandbox)."""


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every card number carries."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def expired(exp_month: int, exp_year: int, today: date | None = None) -> bool:
    """A card is valid to the last day of its expiry month."""
    today = today or date.today()
    return (exp_year, exp_month) < (today.year, today.month)


def brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith("62"):
        return "unionpay"
    if 3528 <= int(number[:4]) <= 3589:
        return "jcb"
    return "other"


@dataclass(frozen=True)
class Tokenized:
    brand: str
    last4: str
    # What the sandbox acquirer will answer for this card; a real acquirer keeps its own vault.
    sandbox_outcome: str


def tokenize(cfg: PaymentConfig, number: str) -> Tokenized:
    """What is kept of a (valid) card number: never the number itself."""
    if not cfg.sandbox:
        raise CardUnavailable()
    return Tokenized(brand=brand(number), last4=number[-4:],
                     sandbox_outcome="declined" if number in DECLINED_TEST_CARDS else "approved")


def charge(cfg: PaymentConfig, sandbox_outcome: str, amount: int, payment_id: str) -> tuple[bool, str]:
    """Charge a tokenized card: (approved, acquirer reference or decline reason)."""
    if not cfg.sandbox:
        raise CardUnavailable()
    if sandbox_outcome == "approved":
        return True, f"sandbox-ch-{payment_id[:8]}"
    return False, "card declined"


def refund(cfg: PaymentConfig, payment_id: str, amount: int, refund_id: str) -> str:
    """Give money back to the card that paid; returns the acquirer's reference."""
    if not cfg.sandbox:
        raise CardUnavailable()
    from . import sandbox  # only the sandbox code path touches the sandbox

    sandbox.refund_once("card", payment_id, refund_id, amount)
    return f"sandbox-re-{refund_id[:8]}"
