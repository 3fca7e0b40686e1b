"""Card checks on plain values: Luhn, expiry, brand; the schema never echoes a number."""
from datetime import date

import pytest

from payment import card
from payment.schemas import CardSchema


@pytest.mark.parametrize("number", ["4242424242424242", "4000000000000002", "5555555555554444", "378282246310005"])
def test_real_test_card_numbers_pass_luhn(number):
    assert card.luhn_ok(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234", "42424242424242424242", "4242x42424242424", ""])
def test_wrong_numbers_fail_luhn(number):
    assert not card.luhn_ok(number)


def test_a_card_is_valid_through_its_expiry_month():
    today = date(2026, 11, 25)
    assert not card.expired(11, 2026, today)
    assert card.expired(10, 2026, today)
    assert not card.expired(1, 2027, today)


def test_brands_by_prefix():
    assert [card.brand(n) for n in ("4242424242424242", "5555555555554444", "378282246310005",
                                    "6212345678901232", "3530111333300000")] == [
        "visa", "mastercard", "amex", "unionpay", "jcb"]


def test_a_bad_number_is_refused_without_repeating_it():
    errors = CardSchema().validate({"number": "4242 4242 4242 4241", "exp_month": 1, "exp_year": 2000, "cvc": "12"})
    assert set(errors) == {"number", "cvc"}
    assert "4241" not in str(errors)


def test_an_expired_card_is_refused():
    errors = CardSchema().validate({"number": "4242424242424242", "exp_month": 1, "exp_year": 2001, "cvc": "123"})
    assert errors == {"exp_year": ["The card has expired"]}
