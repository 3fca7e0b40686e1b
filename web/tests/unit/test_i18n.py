"""The page language rules: every text has its Chinese, money reads and parses exactly, times are Beijing's."""
import re
import string
from pathlib import Path

import pytest
from flask import Flask

from web import i18n

PACKAGE = Path(i18n.__file__).parent
TEXT = re.compile(r"""(?:\b_|gettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")


def used_texts() -> set[str]:
    texts = set(i18n.LABELS.values())
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.glob("*.py")]:
        texts |= {a or b for a, b in TEXT.findall(path.read_text(encoding="utf-8"))}
    return texts


def test_every_text_the_pages_use_has_a_chinese_translation_with_the_same_placeholders():
    zh = i18n._zh()
    texts = used_texts()
    assert len(texts) > 200
    missing = sorted(t for t in texts if t not in zh)
    assert not missing, f"add these to web/web/zh.json: {missing}"
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    assert [t for t in texts if fields(t) != fields(zh[t])] == []


def test_no_translation_is_left_over_from_a_text_no_page_uses():
    dynamic = {"Not Found", "Forbidden", "Bad Request", "Method Not Allowed", "Request Entity Too Large",
               "Unauthorized", "Size", "Color", "Colour", "Newest", "Bestselling", "Price: low to high",
               "Price: high to low"}  # error names, attribute names and sort labels reach _() as variables
    assert sorted(set(i18n._zh()) - used_texts() - dynamic) == []


def test_the_language_is_chinese_by_default_and_english_on_request():
    app = Flask(__name__)
    app.secret_key = "test"
    with app.test_request_context():
        assert i18n.gettext("Sold out") == "已售罄"
        assert i18n.label("PAID") == "已付款"
        assert i18n.gettext("{n} sold", n=3) == "已售 3"
        from flask import session
        session["lang"] = "en"
        assert i18n.gettext("Sold out") == "Sold out"
        assert i18n.label("AWAITING_PAYMENT") == "Awaiting payment"
        assert i18n.label("some_new_status") == "some_new_status"


@pytest.mark.parametrize("fen, text", [(39900, "¥399.00"), (5, "¥0.05"), (123456789, "¥1,234,567.89"),
                                       (-1050, "-¥10.50"), (0, "¥0.00")])
def test_money_in_fen_reads_as_yuan_with_two_decimals(fen, text):
    assert i18n.yuan(fen) == text


@pytest.mark.parametrize("typed, fen", [("399", 39900), ("399.5", 39950), ("¥1,299.00", 129900), (" 0.01 ", 1),
                                        ("", None), (None, None)])
def test_a_price_typed_in_yuan_becomes_exact_fen(typed, fen):
    assert i18n.to_fen(typed) == fen


@pytest.mark.parametrize("typed", ["abc", "1.001", "-5", "NaN", "Infinity", "1e3.5"])
def test_a_price_that_is_not_an_amount_is_refused(typed):
    with pytest.raises(ValueError):
        i18n.to_fen(typed)


def test_api_times_show_in_beijing_time():
    assert i18n.when("2026-01-31T16:30:00+00:00") == "2026-02-01 00:30"
    assert i18n.when("2026-01-31T16:30:00") == "2026-02-01 00:30"  # no offset: UTC
    assert i18n.when(None) == "" and i18n.when("not a time") == "not a time"
