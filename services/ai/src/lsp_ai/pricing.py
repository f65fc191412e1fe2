"""Pricing against competitor prices: position, a suggested move, and its expected revenue effect
only where the item's own history shows how its sales respond to price.

The price response is a log-log regression of daily units on the day's average price with weekday
effects. It needs the item to have been sold at two or more price levels on enough days; if not,
the answer says plainly that the effect cannot be estimated instead of inventing an elasticity.
"""

from typing import Any

import numpy as np
import pandas as pd

MIN_DAYS_PER_LEVEL = 7
ABOVE_MARKET = 0.15
BELOW_MARKET = -0.10


def price_response(item_days: pd.DataFrame) -> dict[str, Any]:
    """item_days: index day; quantity, revenueVnd (one item). Elasticity or why there is none."""
    days = item_days[item_days["quantity"] > 0]
    price = (days["revenueVnd"] / days["quantity"]).round(-2)
    levels = price.value_counts()
    usable = levels[levels >= MIN_DAYS_PER_LEVEL]
    if len(usable) < 2:
        return {
            "estimated": False,
            "elasticity": None,
            "note": (
                f"sold at {len(levels)} price level(s) in {len(days)} days; at least two levels with "
                f"{MIN_DAYS_PER_LEVEL}+ days each are needed to estimate how sales respond to price"
            ),
        }
    keep = price.isin(usable.index)
    y = np.log(days["quantity"][keep].to_numpy(dtype=float))
    weekday = pd.get_dummies(pd.DatetimeIndex(days.index[keep]).day_of_week, drop_first=True).to_numpy(float)
    x = np.column_stack([np.ones(len(y)), np.log(price[keep].to_numpy(dtype=float)), weekday])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    dof = max(1, len(y) - x.shape[1])
    cov = (resid @ resid / dof) * np.linalg.pinv(x.T @ x)
    se = float(np.sqrt(cov[1, 1]))
    elasticity = float(coef[1])
    if se == 0 or abs(elasticity / se) < 2:
        return {
            "estimated": False,
            "elasticity": round(elasticity, 3),
            "note": f"price changes seen, but the response is not distinguishable from noise "
            f"(elasticity {elasticity:.2f} ± {2 * se:.2f})",
        }
    return {
        "estimated": True,
        "elasticity": round(elasticity, 3),
        "note": f"from {int(keep.sum())} days at {len(usable)} price levels (± {2 * se:.2f})",
    }


def analyse_item(
    item_id: str, name: str, item_days: pd.DataFrame, competitor_prices: list[int]
) -> dict[str, Any]:
    recent = item_days.iloc[-28:]
    units = float(recent["quantity"].sum())
    ours = int(round(float(recent["revenueVnd"].sum()) / units, -2)) if units else None
    market = float(np.median(competitor_prices))
    result: dict[str, Any] = {
        "itemId": item_id,
        "name": name,
        "ourPriceVnd": ours,
        "competitorMedianVnd": int(market),
        "competitorCount": len(competitor_prices),
        "positionPct": None,
        "move": "hold",
        "suggestedPriceVnd": ours,
        "unitsPerDay": round(units / max(1, len(recent)), 2),
        "priceResponse": price_response(item_days),
        "expectedRevenueEffectVndPerDay": None,
        "reason": "",
    }
    if ours is None:
        result["reason"] = "no sales of this item in the last 28 days: our price is unknown"
        return result
    position = ours / market - 1
    result["positionPct"] = round(position * 100, 1)
    if position > ABOVE_MARKET:
        target = int(round(market * 1.05, -3))
        result.update(move="lower", suggestedPriceVnd=target)
        result["reason"] = f"{position:+.0%} above the competitors' median; move to about 5 % above it"
    elif position < BELOW_MARKET:
        target = int(round(market * 0.95, -3))
        result.update(move="raise", suggestedPriceVnd=target)
        result["reason"] = (
            f"{position:+.0%} below the competitors' median; room to raise to about 5 % below it"
        )
    else:
        result["reason"] = f"{position:+.0%} against the competitors' median: in line with the market"
        return result
    response = result["priceResponse"]
    if response["estimated"]:
        new_price = result["suggestedPriceVnd"]
        per_day = units / max(1, len(recent))
        new_units = per_day * (new_price / ours) ** response["elasticity"]
        result["expectedRevenueEffectVndPerDay"] = round(new_units * new_price - per_day * ours)
    else:
        result["reason"] += "; the revenue effect cannot be estimated from this item's history"
    return result
