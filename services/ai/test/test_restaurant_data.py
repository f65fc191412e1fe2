"""The real restaurant series' dates (scripts/restaurant_data.py): the Yaz CSV gives each row a
weekday, month and year only, so its dates are rebuilt; a wrong rebuild would shift every weekday
of the evaluation. Runs on generated rows (the CSV comes with the `eval` dependency group)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def restaurant_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restaurant_data", SCRIPTS / "restaurant_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["restaurant_data"] = module
    spec.loader.exec_module(module)
    return module


def rows_for(days: pd.DatetimeIndex) -> pd.DataFrame:
    r = restaurant_data()
    return pd.DataFrame(
        {
            "weekday": [r.WEEKDAYS[d.weekday()] for d in days],
            "month": [r.MONTHS[d.month - 1] for d in days],
            "year": days.year,
        }
    )


def test_consecutive_rows_get_their_dates_back_from_a_mid_month_start() -> None:
    days = pd.date_range("2013-10-04", "2015-11-07", freq="D")  # Yaz's span
    assert list(restaurant_data()._yaz_dates(rows_for(days))) == list(days)


def test_two_mislabelled_weekdays_are_tolerated_three_are_not() -> None:
    r = restaurant_data()
    days = pd.date_range("2014-11-20", periods=60, freq="D")
    rows = rows_for(days)

    def mislabel(i: int) -> None:  # another weekday than the day's (December 2014 has two such)
        rows.loc[i, "weekday"] = r.WEEKDAYS[(days[i].weekday() + 3) % 7]

    mislabel(30)
    mislabel(31)
    assert list(r._yaz_dates(rows)) == list(days)
    mislabel(32)
    with pytest.raises(SystemExit):
        r._yaz_dates(rows)


def test_a_missing_day_is_not_papered_over() -> None:
    days = pd.date_range("2014-01-01", periods=90, freq="D")
    rows = rows_for(days.delete(40))  # a day missing mid-series: the months no longer fit
    with pytest.raises(SystemExit):
        restaurant_data()._yaz_dates(rows)
