"""Anomaly detection on a location's days and hours.

Each day gets a feature vector (docs/domain.md §4): revenue residual against the one-step
forecast, orders against their usual level for the weekday, average ticket, void rate and cash
share against the trailing month. Features are robust z-scores (median / MAD of the history), so
one bad day does not hide itself. Two detectors look at them:
- residual checks with named meanings: revenue falls while orders stay flat (payments not
  recorded), a void spike, revenue outside the forecast's interval;
- scikit-learn IsolationForest over the whole vector, for combinations no rule names; it flags a
  day only when it is also among the most isolated and at least one feature is clearly off.
Hours are checked against the same weekday-hour of the previous weeks.
"""

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from lsp_ai.calendar_vn import is_holiday
from lsp_ai.forecast import _fit

WARMUP_DAYS = 14
TRAILING_DAYS = 28
RULE_Z = 4.0
# IsolationForest alone flags a day only when some feature is as far off as the rules require:
# at 3.0 robust sigma most of its flags were ordinary days (tuned on seeds 0-19, not the
# evaluation seeds: false flags 69 -> 16 over 20 locations, recall unchanged at 80/80).
FOREST_Z = RULE_Z
# Revenue below the one-step forecast (a day of lost demand) has its own threshold, calibrated on
# seeds 0-19 (scripts/evaluate.py --seed 0 --drop-z Z) as the lowest that keeps false flags within
# the budget of one per location per two weeks and at most 25 % of all flags:
#   Z    -30 % days found   false flags / 14 days   false share of flags
#   4.0   5/40              0.04                     4.9 %
#   3.5   7/40              0.10                    10.7 %
#   3.0  12/40              0.23                    19.8 %
#   2.5  21/40              0.39                    28.3 % (over budget)
# Most false flags are the generator's heavy-rain days (15-30 % less demand, unlabelled): a -30 %
# day looks like a rainy one, so no threshold finds most of them within the budget.
DROP_Z = 3.0
# With the weather known (a `rain` column: heavy-rain days from a feed or the owner), rain no longer
# looks like lost demand: the residual's robust spread falls from 0.124 to 0.101 and rainy days stop
# crossing the line, so the threshold can come down. Same calibration (seeds 0-19, weather given;
# /tmp sweep reproduced by `scripts/evaluate.py --seed 0 --weather --drop-z Z`):
#   Z     -30 % days found   false flags / 14 days   false share of flags
#   3.0   24/40              0.06                     5.6 %
#   2.5   29/40              0.13                    10.9 %
#   2.25  33/40              0.16                    13.1 %
#   2.0   35/40              0.34                    23.4 % (within 25 %, but by 2 flags of 39)
#   1.75  36/40              0.52                    31.7 % (over)
# 2.25, not 2.0: 2.0 is inside the 25 % share by two flags on the tuning seeds, no margin for other
# locations (chosen before the evaluation seeds were scored).
DROP_Z_WITH_WEATHER = 2.25
SEASON_DAYS = 7


def _robust_z(x: pd.Series) -> pd.Series:
    med = x.median()
    mad = 1.4826 * (x - med).abs().median()
    return (x - med) / (mad if mad > 0 else (x.std() or 1.0))


def _trailing_median(x: pd.Series) -> pd.Series:
    return x.shift(1).rolling(TRAILING_DAYS, min_periods=7).median()


def _same_weekday_median(x: pd.Series, weeks: int = 4) -> pd.Series:
    shifted = pd.concat([x.shift(SEASON_DAYS * k) for k in range(1, weeks + 1)], axis=1)
    return shifted.median(axis=1, skipna=True)


MIN_RAIN_DAYS = 4  # rainy days seen before their effect is estimated (fewer: no adjustment)


def rain_effect(revenue: pd.Series, rain: np.ndarray, residual: np.ndarray) -> float:
    """How much a rainy day differs from what it is measured against, on the log scale: the
    median residual (or ratio) of rainy open days minus that of dry open days, days without one
    (NaN: a ratio's first weeks) left out; 0 with too few rainy days."""
    is_open = (revenue.to_numpy() > 0) & ~np.isnan(residual)
    wet, dry = residual[rain & is_open], residual[~rain & is_open]
    if len(wet) < MIN_RAIN_DAYS or len(dry) < MIN_RAIN_DAYS:
        return 0.0
    return float(np.median(wet) - np.median(dry))


def daily_features(daily: pd.DataFrame) -> pd.DataFrame:
    """daily: index = business day (daily frequency); revenueVnd, orders, voids, cash (counts);
    optional `rain` (bool: a heavy-rain day, from a weather feed or the owner). Rain takes 15-30 %
    of a day's trade, as much as the demand drops the detector must find, so with the column the
    revenue model learns rain's effect and measures each day against its own weather."""
    revenue = daily["revenueVnd"].astype(float)
    orders = daily["orders"].astype(float)
    # Zero-order days are closures: the forecast imputes them (forecast.clean_history), and the
    # weekday medians skip them, so the first open day after a closure is measured against open days.
    open_orders = orders.where(orders > 0)
    fitted = _fit(revenue).fittedvalues.to_numpy()
    effect = 0.0
    rain = daily["rain"].fillna(False).to_numpy(dtype=bool) if "rain" in daily else np.zeros(len(daily), bool)
    if rain.any():
        effect = rain_effect(revenue, rain, np.log1p(revenue.to_numpy()) - fitted)
        if effect:
            # Refit on the series as it would have been dry, so rain neither drags the level nor
            # counts as noise; each day's expectation then carries its own weather again. (One
            # pass: the estimate is a little short, as the model's level follows a rainy day; a
            # refined second estimate found no more -30 % days on four test seeds.)
            dry = pd.Series(revenue.to_numpy() * np.where(rain, np.exp(-effect), 1.0), index=revenue.index)
            fitted = _fit(dry).fittedvalues.to_numpy() + effect * rain
    out = pd.DataFrame(index=daily.index)
    out["revenue"] = revenue
    out["expectedRevenue"] = np.expm1(fitted)
    out["revenueResidual"] = np.log1p(revenue.to_numpy()) - fitted
    orders_ratio = np.log1p(orders) - np.log1p(_same_weekday_median(open_orders))
    orders_effect = rain_effect(revenue, rain, orders_ratio.to_numpy()) if effect else 0.0
    if orders_effect:
        # Rain keeps guests home: orders fall with revenue. Measured against the same weekday's
        # orders, a rainy day would still stand out (the forest would call it unusual), and a dry
        # day after rainy weeks would look busy. As with revenue: the weekday medians of the
        # orders as they would have been dry, then each day against its own weather.
        dry_orders: pd.Series = open_orders * np.where(rain, np.exp(-orders_effect), 1.0)
        orders_ratio = np.log1p(orders) - np.log1p(_same_weekday_median(dry_orders)) - orders_effect * rain
    out["ordersRatio"] = orders_ratio
    ticket = revenue / orders.where(orders > 0)
    out["ticketRatio"] = np.log(ticket) - np.log(_trailing_median(ticket))
    void_rate = daily["voids"].astype(float) / orders.where(orders > 0)
    out["voidExcess"] = void_rate - _trailing_median(void_rate)
    cash = daily["cash"].astype(float) / orders.where(orders > 0) if "cash" in daily else orders * 0
    out["cashShift"] = cash - _trailing_median(cash)
    out["rainEffect"] = effect  # log scale; 0 without weather (or with too few rainy days)
    out["orders"] = orders
    out["voids"] = daily["voids"].astype(float)
    out["holiday"] = [is_holiday(d.date()) for d in pd.DatetimeIndex(daily.index)]
    return out


FEATURES = ["revenueResidual", "ordersRatio", "ticketRatio", "voidExcess", "cashShift"]


def detect_daily(daily: pd.DataFrame, seed: int = 0, drop_z: float | None = None) -> list[dict[str, Any]]:
    """Flagged days, most severe first; plain JSON values. `drop_z`: the threshold for revenue
    below the forecast (default DROP_Z, or DROP_Z_WITH_WEATHER when rain's effect was modelled)."""
    if len(daily) < WARMUP_DAYS + 7:
        return []
    feats = daily_features(daily)
    if drop_z is None:
        drop_z = DROP_Z_WITH_WEATHER if float(feats["rainEffect"].iloc[0]) != 0 else DROP_Z
    scored = feats.iloc[WARMUP_DAYS:].copy()
    scored = scored[(scored["orders"] > 0) & ~scored["holiday"]]
    if len(scored) < 7:
        return []
    z = pd.DataFrame({f: _robust_z(scored[f].fillna(scored[f].median())) for f in FEATURES})
    forest = IsolationForest(n_estimators=100, contamination="auto", random_state=seed)
    forest.fit(z.to_numpy())
    iso_score = forest.score_samples(z.to_numpy())
    iso_flag = forest.predict(z.to_numpy()) == -1
    found = []
    for i, day in enumerate(pd.DatetimeIndex(z.index)):
        row = z.iloc[i]
        f = scored.iloc[i]  # z is computed from scored, row for row
        kind, why = _explain(row, f, drop_z)
        if kind is None and iso_flag[i] and row.abs().max() > FOREST_Z:
            kind = "unusual_day"
            top = int(row.abs().to_numpy().argmax())
            why = (
                f"unusual combination of figures (most off: {z.columns[top]}, "
                f"{row.iloc[top]:+.1f} robust sigma)"
            )
        if kind is None:
            continue
        strength = float(row.abs().max())
        found.append(
            {
                "businessDay": day.date().isoformat(),
                "kind": kind,
                "description": why,
                "severity": "high" if strength > 8 else "medium" if strength > 5 else "low",
                "score": round(float(-iso_score[i]), 4),
                "zScores": {k: round(float(v), 2) for k, v in row.items()},
                "revenueVnd": int(f["revenue"]),
                "expectedRevenueVnd": round(float(f["expectedRevenue"])),
                "orders": int(f["orders"]),
            }
        )
    return sorted(found, key=lambda a: -max(abs(v) for v in a["zScores"].values()))


def _explain(z: pd.Series, f: pd.Series, drop_z: float) -> tuple[str | None, str]:
    if z["ticketRatio"] < -RULE_Z and abs(z["ordersRatio"]) < RULE_Z:
        drop = 1 - float(np.exp(f["ticketRatio"]))
        return (
            "revenue_drop_orders_flat",
            f"revenue {int(f['revenue']):,} VND vs about {int(f['expectedRevenue']):,} expected: the "
            f"average ticket fell {drop:.0%} while orders stayed at their usual level "
            "(payments not recorded? a payment provider outage?)",
        )
    if z["voidExcess"] > RULE_Z and f["voids"] >= 3:
        return (
            "void_spike",
            f"{int(f['voids'])} voids out of {int(f['orders'])} orders, "
            f"{float(f['voidExcess']):+.1%} above the usual void rate",
        )
    if z["revenueResidual"] < -drop_z:
        return (
            "revenue_below_forecast",
            f"revenue {int(f['revenue']):,} VND, well below the forecast of about "
            f"{int(f['expectedRevenue']):,} VND",
        )
    if z["revenueResidual"] > RULE_Z:
        return (
            "revenue_above_forecast",
            f"revenue {int(f['revenue']):,} VND, well above the forecast of about "
            f"{int(f['expectedRevenue']):,} VND",
        )
    return None, ""


def detect_hourly(hourly: pd.DataFrame, min_expected_orders: float = 8.0) -> list[dict[str, Any]]:
    """hourly: index = local hour timestamps; revenueVnd, orders. Flags runs of 2+ hours whose
    revenue fell below a third of the same weekday-hour's median over the previous four weeks,
    where those hours usually have real trade (so a quiet hour is not an alarm); then dayparts
    (detect_dayparts), which still see a small location's lost lunch."""
    if hourly.empty:
        return []
    full = hourly.asfreq("h", fill_value=0)
    # A day without a single order is a closure (a day off, Tết), not hours of lost revenue; nor
    # do closed days count in the usual level of the weeks after.
    day_orders = full["orders"].groupby(pd.DatetimeIndex(full.index).normalize()).transform("sum")
    closed = (day_orders <= 0).to_numpy()
    full = full.astype(float)
    full.loc[closed, :] = np.nan
    # The same weekday-hour of the previous four weeks: lags of 168 hours.
    lags = pd.concat([full["revenueVnd"].shift(168 * k) for k in range(1, 5)], axis=1)
    expected_rev = lags.median(axis=1, skipna=True)
    lag_orders = pd.concat([full["orders"].shift(168 * k) for k in range(1, 5)], axis=1).median(axis=1)
    low = ((lag_orders >= min_expected_orders) & (full["revenueVnd"] < expected_rev / 3)).to_numpy() & ~closed
    # One quiet hour is noise at hourly volumes; two in a row where trade is usual is not.
    found = []
    i = 0
    while i < len(low):
        if not low[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(low) and low[j + 1]:
            j += 1
        at = full.index[i]
        if j > i and not is_holiday(at.date()):
            got = int(full["revenueVnd"].iloc[i : j + 1].sum())
            usual = int(expected_rev.iloc[i : j + 1].sum())
            found.append(
                {
                    "at": at.isoformat(),
                    "hours": j - i + 1,
                    "kind": "hourly_revenue_drop",
                    "description": (
                        f"{at:%H}:00-{full.index[j] + pd.Timedelta(hours=1):%H}:00 revenue {got:,} VND vs "
                        f"about {usual:,} VND in the same hours of recent weeks"
                    ),
                    "revenueVnd": got,
                    "expectedRevenueVnd": usual,
                }
            )
        i = j + 1
    covered = {pd.Timestamp(a["at"]) + pd.Timedelta(hours=h) for a in found for h in range(a["hours"])}
    return found + detect_dayparts(full, closed, covered)


# Dayparts (local hours): where single hours are too thin to judge, a daypart still is.
DAYPARTS = (
    ("morning", 5, 10),
    ("lunch", 10, 14),
    ("afternoon", 14, 17),
    ("dinner", 17, 21),
    ("night", 21, 29),
)
MIN_DAYPART_ORDERS = 20.0  # usual orders in the daypart: below this a half-empty daypart is noise


def detect_dayparts(
    full: pd.DataFrame, closed: np.ndarray, covered: set[pd.Timestamp] | None = None
) -> list[dict[str, Any]]:
    """Dayparts whose revenue fell below half the same weekday-daypart's median over the previous
    four weeks, where that daypart usually has at least MIN_DAYPART_ORDERS orders; closed days,
    holidays and dayparts an hourly finding already covers are skipped. `full`: hourly frame at
    hourly frequency (closed hours NaN), as detect_hourly builds it."""
    covered = covered or set()
    hours = pd.DatetimeIndex(full.index)
    # Hours before 05:00 belong to the previous day's night.
    shifted = hours - pd.Timedelta(hours=5)
    day = shifted.normalize()
    hour = hours.hour.to_numpy()
    part = np.select(
        [
            (hour >= lo % 24) & (hour < hi) if hi <= 24 else (hour >= lo) | (hour < hi - 24)
            for _, lo, hi in DAYPARTS
        ],
        list(range(len(DAYPARTS))),
        default=-1,
    )
    frame = pd.DataFrame(
        {
            "day": day,
            "part": part,
            "revenueVnd": full["revenueVnd"].to_numpy(),
            "orders": full["orders"].to_numpy(),
            "closed": closed,
            "covered": [h in covered for h in hours],
        }
    )
    grouped = frame.groupby(["day", "part"]).agg(
        revenueVnd=("revenueVnd", "sum"),
        orders=("orders", "sum"),
        closed=("closed", "any"),
        covered=("covered", "any"),
    )
    found = []
    for p, (name, lo, hi) in enumerate(DAYPARTS):
        rows = grouped.xs(p, level="part") if p in grouped.index.get_level_values("part") else None
        if rows is None:
            continue
        rows = rows.asfreq("D")
        revenue = rows["revenueVnd"].where(~rows["closed"].fillna(True).astype(bool))
        orders = rows["orders"].where(~rows["closed"].fillna(True).astype(bool))
        lagged = pd.concat([revenue.shift(7 * k) for k in range(1, 5)], axis=1)
        expected = lagged.median(axis=1)
        usual_orders = pd.concat([orders.shift(7 * k) for k in range(1, 5)], axis=1).median(axis=1)
        enough = lagged.notna().sum(axis=1) >= 3  # three of the last four weeks open
        low = enough & (usual_orders >= MIN_DAYPART_ORDERS) & (revenue < expected / 2)
        for d in rows.index[low.fillna(False).to_numpy()]:
            if bool(rows.loc[d, "covered"]) or is_holiday(d.date()):
                continue
            at = d + pd.Timedelta(hours=lo)
            got, usual = int(revenue[d]), int(expected[d])
            found.append(
                {
                    "at": at.isoformat(),
                    "hours": hi - lo,
                    "kind": "daypart_revenue_drop",
                    "description": (
                        f"{name} ({lo % 24:02d}:00-{hi % 24:02d}:00) revenue {got:,} VND vs about "
                        f"{usual:,} VND in the same daypart of recent weeks"
                    ),
                    "revenueVnd": got,
                    "expectedRevenueVnd": usual,
                }
            )
    return sorted(found, key=lambda a: a["at"])
