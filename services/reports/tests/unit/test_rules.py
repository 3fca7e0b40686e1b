"""reports' rules without I/O: Shanghai days, periods, percentiles, and the report arguments."""
from datetime import date, datetime

import pytest
from marshmallow import ValidationError

from reports.queries import _full_months, _percentile
from reports.schemas import GroupedArgs, RangeArgs, StockArgs
from reports.services import SHANGHAI, local_day, parse_time, period_start


def test_a_day_is_a_shanghai_day_not_a_utc_one():
    assert local_day(parse_time("2026-11-03T15:59:59Z")) == date(2026, 11, 3)  # 23:59:59 in Shanghai
    assert local_day(parse_time("2026-11-03T16:00:00Z")) == date(2026, 11, 4)  # midnight in Shanghai
    assert local_day(parse_time("2026-11-03T23:30:00+08:00")) == date(2026, 11, 3)


def test_weeks_start_on_monday_and_months_on_the_first():
    wednesday = date(2026, 11, 4)
    assert period_start(wednesday, "day") == wednesday
    assert period_start(wednesday, "week") == date(2026, 11, 2)
    assert period_start(wednesday, "month") == date(2026, 11, 1)


def test_percentiles_come_from_the_hour_histogram():
    histogram = [(30, 5), (10, 4), (50, 1)]  # 4 parcels in 10 h, 5 in 30 h, 1 in 50 h
    assert _percentile(histogram, 0.5) == 30
    assert _percentile(histogram, 0.4) == 10
    assert _percentile(histogram, 0.9) == 30
    assert _percentile(histogram, 1.0) == 50
    assert _percentile([], 0.5) is None


def test_a_range_defaults_to_the_thirty_days_up_to_today_in_shanghai():
    args = RangeArgs().load({})
    assert (args["to"] - args["from_"]).days == 29
    assert args["to"] == datetime.now(SHANGHAI).date()
    assert RangeArgs().load({"from": "2026-01-01"})["to"] == date(2026, 1, 30)


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),  # ends before it starts
    ({"from": "2023-01-01", "to": "2026-01-31"}, "from"),  # over three years
    ({"format": "xml"}, "format"),
    ({"from": "yesterday"}, "from"),
])
def test_a_bad_range_is_refused_naming_the_field(query, field):
    with pytest.raises(ValidationError) as refused:
        RangeArgs().load(query)
    assert field in refused.value.messages


def test_an_unknown_group_by_is_refused():
    with pytest.raises(ValidationError) as refused:
        GroupedArgs().load({"group_by": "year"})
    assert "group_by" in refused.value.messages
    assert GroupedArgs().load({})["group_by"] == "day"


def test_stock_thresholds_cannot_be_negative():
    with pytest.raises(ValidationError):
        StockArgs().load({"low_stock": -1})


def test_a_range_reads_whole_months_from_the_monthly_figures_and_the_rest_from_the_daily_ones():
    assert _full_months(date(2026, 10, 31), date(2026, 11, 30)) == (date(2026, 11, 1), date(2026, 12, 1))
    assert _full_months(date(2026, 1, 1), date(2026, 12, 31)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert _full_months(date(2026, 1, 15), date(2026, 3, 14)) == (date(2026, 2, 1), date(2026, 3, 1))
    first, after = _full_months(date(2026, 1, 2), date(2026, 1, 30))  # no whole month: days only
    assert first == after
    first, after = _full_months(date(2026, 12, 15), date(2027, 1, 20))
    assert first == after
