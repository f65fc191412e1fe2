"""Offline evaluation of the forecast and anomaly models on seeded synthetic locations.

Prints the table issue 6 asks for: for each location, 120 days are generated; the forecast is
fitted on the first 106 days only and scored on the 14 held-out days (mean WAPE of the model vs
seasonal naive); anomaly detection runs over all days and is scored against the injected labels
(recall, false-alarm rate over clean days). Besides the generator's payment outages and void
spikes, whole-day demand drops of 30 % and 60 % are injected here (orders, revenue, voids and
payments scaled), and every other location is closed on Mondays from its fifth week (closures must
not be flagged, nor the days after them). The rolling-origin forecast table on real and synthetic
series is scripts/evaluate_forecasts.py. Run from services/ai:

    uv run --frozen python scripts/evaluate.py [--locations 20] [--days 120] [--holdout 14]
"""

import argparse
import time
from collections import Counter

import numpy as np
import pandas as pd

from lsp_ai.anomalies import daily_features, detect_daily, detect_hourly
from lsp_ai.calendar_vn import is_holiday
from lsp_ai.forecast import mase, predict, seasonal_naive, wape
from lsp_ai.synthetic import Location, generate_location

TARGET_RATIO = 0.8
TARGET_RECALL = 0.9
TARGET_FALSE_ALARMS = 0.10
TARGET_FALSE_SHARE = 0.25
# The detector's names for the two injected kinds.
KIND_FOR_LABEL = {
    "payment_outage": "revenue_drop_orders_flat",
    "void_spike": "void_spike",
    "demand_drop_30": "revenue_below_forecast",
    "demand_drop_60": "revenue_below_forecast",
}
DROPS = [("demand_drop_30", 0.7), ("demand_drop_30", 0.7), ("demand_drop_60", 0.4)]
# The budget: at most one flag per location per two weeks on clean data.
FLAG_BUDGET_PER_14_DAYS = 1.0


def drop_30_bound(clean_residuals: np.ndarray) -> tuple[int, int]:
    """The most -30 % days any rule that flags a day by its revenue residual alone could find in a
    window within the false-flag budget: an oracle that knows which days are clean puts its
    threshold at the residual the budget allows (the whole budget spent on drops, so an upper
    bound), and a -30 % day on each clean day would sit log(0.7) below that day's residual (the
    one-step forecast does not see the day it forecasts). Returns (found, clean days)."""
    if len(clean_residuals) == 0:
        return 0, 0
    threshold = np.quantile(clean_residuals, FLAG_BUDGET_PER_14_DAYS / 14)
    return int(np.sum(clean_residuals + np.log(0.7) < threshold)), len(clean_residuals)


def inject(loc: Location, seed: int, close_mondays: bool) -> set[str]:
    """Demand drops on clean days (not labelled, not a holiday, not a rainy day), and Monday
    closures; returns the closed days. Labels are added to loc.anomalies."""
    rng = np.random.default_rng(10_000 + seed)
    days = pd.DatetimeIndex(loc.daily.index)
    closed = set()
    if close_mondays:
        closed = {d.date().isoformat() for i, d in enumerate(days) if d.day_of_week == 0 and i >= 28}
    candidates = [
        d.date().isoformat()
        for i, d in enumerate(days)
        if i >= 35
        and not is_holiday(d.date())
        and d.date().isoformat() not in loc.anomalies
        and d.date().isoformat() not in loc.rain_days
        and d.date().isoformat() not in closed
        and (d - pd.Timedelta(days=1)).date().isoformat() not in closed
    ]
    picked = rng.choice(candidates, size=min(len(DROPS), len(candidates)), replace=False)
    columns = [c for c in loc.daily.columns if c != "day"]
    for day, (label, factor) in zip(sorted(picked), DROPS, strict=False):
        at = pd.Timestamp(day)
        loc.daily.loc[at, columns] = (loc.daily.loc[at, columns] * factor).round().astype(int)
        loc.anomalies[day] = label
    for day in closed:
        loc.daily.loc[pd.Timestamp(day), columns] = 0
        loc.anomalies.pop(day, None)
    return closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--holdout", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1000, help="first location seed")
    parser.add_argument("--drop-z", type=float, default=None, help="override anomalies.DROP_Z")
    parser.add_argument(
        "--weather",
        action="store_true",
        help="give the detector the generator's heavy-rain days (what a weather feed would supply)",
    )
    args = parser.parse_args()
    detect_args = {} if args.drop_z is None else {"drop_z": args.drop_z}

    model_wapes, naive_wapes, model_mases, fit_seconds, detect_seconds = [], [], [], [], []
    injected = found = clean_days = false_alarms = 0
    by_kind: Counter[str] = Counter()
    found_by_kind: Counter[str] = Counter()
    false_by_reason: Counter[str] = Counter()
    false_on_rain = named_flags = named_false = kind_matches = 0
    closed_flagged = after_closed_flagged = after_closed_rain = 0
    hour_flags: Counter[str] = Counter()
    hour_days = hour_flags_closed = 0
    residual_sigmas: list[float] = []
    bound_found = bound_days = 0
    for k in range(args.locations):
        loc = generate_location(seed=args.seed + k, days=args.days)
        # The forecast is scored on the generator's series as it was (no injected drops nor closures).
        revenue = loc.daily["revenueVnd"].astype(float)
        train, test = revenue.iloc[: -args.holdout], revenue.iloc[-args.holdout :].to_numpy()
        started = time.perf_counter()
        result = predict(train, args.holdout)
        fit_seconds.append(time.perf_counter() - started)
        model_wapes.append(wape(test, np.asarray(result["mean"])))
        naive_wapes.append(wape(test, seasonal_naive(train, args.holdout)))
        model_mases.append(mase(test, np.asarray(result["mean"]), train.to_numpy()))

        closed = inject(loc, args.seed + k, close_mondays=k % 2 == 1)
        after_closed = {(pd.Timestamp(d) + pd.Timedelta(days=1)).date().isoformat() for d in closed} - closed
        if args.weather:
            loc.daily["rain"] = loc.daily.index.strftime("%Y-%m-%d").isin(list(loc.rain_days))
        started = time.perf_counter()
        findings = {a["businessDay"]: a["kind"] for a in detect_daily(loc.daily, seed=k, **detect_args)}
        flagged = set(findings)
        detect_seconds.append(time.perf_counter() - started)
        # The noise a -30 % day must stand out from: the robust spread of the daily revenue
        # residual (log scale) on the days the detector scores that have nothing injected.
        feats = daily_features(loc.daily).iloc[14:]
        clean = ~feats.index.strftime("%Y-%m-%d").isin(list(loc.anomalies)) & (feats["orders"] > 0)
        resid = feats.loc[clean & ~feats["holiday"], "revenueResidual"]
        residual_sigmas.append(float(1.4826 * (resid - resid.median()).abs().median()))
        found_if_best, scored = drop_30_bound(resid.to_numpy())
        bound_found, bound_days = bound_found + found_if_best, bound_days + scored
        hourly = loc.hourly
        if k % 2 == 1:  # the Monday-closed locations are also small: 30 % of the orders
            rng = np.random.default_rng(20_000 + k)
            kept = rng.binomial(hourly["orders"].to_numpy(), 0.3)
            ticket = hourly["revenueVnd"] / hourly["orders"].clip(lower=1)
            hourly = pd.DataFrame(
                {"revenueVnd": (kept * ticket).astype(int), "orders": kept}, index=hourly.index
            )
            hourly.loc[np.isin(hourly.index.normalize().strftime("%Y-%m-%d"), list(closed)), :] = 0
        for a in detect_hourly(hourly):
            hour_flags[a["kind"]] += 1
            hour_flags_closed += a["at"][:10] in closed
        hour_days += args.days - 28
        labelled = set(loc.anomalies)
        closed_flagged += len(flagged & closed)
        after_closed_flagged += len((flagged - labelled) & after_closed)
        after_closed_rain += len((flagged - labelled) & after_closed & loc.rain_days)
        injected += len(labelled)
        found += len(labelled & flagged)
        by_kind.update(loc.anomalies.values())
        found_by_kind.update(kind for day, kind in loc.anomalies.items() if day in flagged)
        false_by_reason.update(findings[d] for d in flagged - labelled)
        false_on_rain += len((flagged - labelled) & loc.rain_days)
        named = {d for d, kind in findings.items() if kind in KIND_FOR_LABEL.values()}
        named_flags += len(named)
        named_false += len(named - labelled)
        kind_matches += sum(findings.get(d) == KIND_FOR_LABEL[kind] for d, kind in loc.anomalies.items())
        # False alarms: flags on days with no injected anomaly, over all such scoreable days
        # (business days after the detector's warm-up, holidays excluded as the detector does).
        scoreable = {
            d.date().isoformat()
            for d in loc.daily.index[14:]
            if not is_holiday(d.date())
            and d.date().isoformat() not in labelled
            and d.date().isoformat() not in closed
        }
        clean_days += len(scoreable)
        false_alarms += len((flagged - labelled) & scoreable)

    mean_model, mean_naive = float(np.mean(model_wapes)), float(np.mean(naive_wapes))
    ratio = mean_model / mean_naive
    recall = found / injected if injected else float("nan")
    false_rate = false_alarms / clean_days if clean_days else float("nan")
    flags = found + false_alarms
    false_share = false_alarms / flags if flags else float("nan")
    per_14 = 14 * false_alarms / clean_days if clean_days else float("nan")
    not_rain = false_alarms - false_on_rain
    false_share_dry = not_rain / (found + not_rain) if found + not_rain else float("nan")
    fit_ms = 1000 * np.array(fit_seconds)
    rows = [
        ("locations x days", f"{args.locations} x {args.days} (last {args.holdout} held out of fitting)", ""),
        ("mean WAPE, model chosen per series (revenue)", f"{mean_model:.4f}", ""),
        ("mean WAPE, seasonal naive", f"{mean_naive:.4f}", ""),
        ("mean MASE, model (held-out days)", f"{float(np.nanmean(model_mases)):.3f}", ""),
        ("ratio model / naive", f"{ratio:.3f}", _verdict(ratio <= TARGET_RATIO, f"≤ {TARGET_RATIO}")),
        ("anomaly recall", f"{recall:.3f} ({found}/{injected})", _verdict(recall >= TARGET_RECALL, "≥ 0.9")),
        *[
            (f"  recall, {kind}", f"{found_by_kind[kind] / n:.3f} ({found_by_kind[kind]}/{n})", "")
            for kind, n in sorted(by_kind.items())
        ],
        (
            "false-alarm rate (clean days flagged)",
            f"{false_rate:.1%} ({false_alarms}/{clean_days})",
            _verdict(false_rate <= TARGET_FALSE_ALARMS, "≤ 10 %"),
        ),
        (
            "false flags per location per 14 clean days",
            f"{per_14:.2f}",
            _verdict(per_14 <= FLAG_BUDGET_PER_14_DAYS, f"≤ {FLAG_BUDGET_PER_14_DAYS:g}"),
        ),
        (
            "false share of all flags",
            f"{false_share:.1%} ({false_alarms}/{flags})",
            _verdict(false_share <= TARGET_FALSE_SHARE, "≤ 25 %"),
        ),
        (
            "  the same, heavy-rain days not counted",
            f"{false_share_dry:.1%} ({not_rain}/{found + not_rain})",
            _verdict(false_share_dry <= TARGET_FALSE_SHARE, "≤ 25 %"),
        ),
        (
            "robust sigma of the daily revenue residual (log)",
            f"median {np.median(residual_sigmas):.3f}: a -30 % day (log 0.7 = -0.357) is "
            f"{-np.log(0.7) / np.median(residual_sigmas):.1f} sigma below",
            "",
        ),
        (
            "best -30 % recall of any residual threshold within the budget (oracle bound)",
            f"{bound_found / bound_days:.3f} ({bound_found}/{bound_days} clean days)",
            _verdict(bound_found / bound_days >= TARGET_RECALL, "≥ 0.9"),
        ),
        ("closed days flagged (Mondays off, every other location)", str(closed_flagged), ""),
        (
            "days after a closure flagged (no injection there)",
            f"{after_closed_flagged} ({after_closed_rain} of them heavy-rain days)",
            "",
        ),
        *[(f"  false flags, {reason}", str(n), "") for reason, n in false_by_reason.most_common()],
        ("  false flags on heavy-rain days", f"{false_on_rain} (real demand drops, unlabelled)", ""),
        (
            "false share, outage/void-spike flags only",
            f"{named_false / named_flags:.1%} ({named_false}/{named_flags})" if named_flags else "n/a",
            "",
        ),
        ("found with the right kind", f"{kind_matches}/{injected}", ""),
        *[
            (
                f"{kind} flags per location per 14 days",
                f"{14 * hour_flags[kind] / hour_days:.2f} ({hour_flags[kind]})",
                "",
            )
            for kind in ("hourly_revenue_drop", "daypart_revenue_drop")
        ],
        ("hourly/daypart flags on closed days", str(hour_flags_closed), ""),
        (
            f"fit time per location ({args.days - args.holdout} days)",
            f"median {np.median(fit_ms):.0f} ms, max {fit_ms.max():.0f} ms",
            "",
        ),
        ("anomaly scan per location", f"median {1000 * np.median(detect_seconds):.0f} ms", ""),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {verdict}".rstrip())


def _verdict(ok: bool, target: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} (target {target})"


if __name__ == "__main__":
    main()
