"""Evidence-backed recommendations: each says what to do, why, and the numbers behind it.

- Menu quadrants (Kasavana & Smith): popular = units ≥ 70 % of the average item; profitable =
  contribution margin ≥ the units-weighted average. Without item costs the price stands in for
  the margin, and the recommendation says so.
- Slow movers: items selling far below the average item and falling.
- Prep quantities for tomorrow: the item's units on the same weekday of recent weeks, scaled by
  the location's forecast for tomorrow against those weeks.
- Promotion timing: the open hours that bring the least revenue (hourly troughs).
Titles and reasons are in Vietnamese: owners read them, and notifications forwards them as is.
"""

from typing import Any

import numpy as np
import pandas as pd

WINDOW_DAYS = 28
VN_WEEKDAYS = ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]
POPULAR_SHARE = 0.7


def _rec(kind: str, key: str, title: str, priority: str, reason: str, **numbers: float) -> dict[str, Any]:
    return {
        "id": f"{kind}:{key}",
        "kind": kind,
        "title": title,
        "priority": priority,
        "reason": reason,
        "evidence": [{"name": k, "value": round(float(v), 4)} for k, v in numbers.items()],
    }


def _recent(items: pd.DataFrame, days: int) -> pd.DataFrame:
    if items.empty:
        return items
    last = items["day"].max()
    return items[items["day"] > last - pd.Timedelta(days=days)]


def menu_quadrants(items: pd.DataFrame, menu: pd.DataFrame) -> list[dict[str, Any]]:
    """items: day, itemId, quantity, revenueVnd. menu: index itemId; name, priceVnd, costVnd (NaN
    when unknown)."""
    recent = _recent(items, WINDOW_DAYS)
    if recent.empty:
        return []
    units = recent.groupby("itemId")["quantity"].sum()
    price = recent.groupby("itemId")["revenueVnd"].sum() / units
    cost = menu["costVnd"].reindex(units.index) if "costVnd" in menu else pd.Series(np.nan, units.index)
    known_cost = bool(cost.notna().all())
    margin = price - cost.fillna(0) if known_cost else price
    popular_at = POPULAR_SHARE * units.sum() / len(units)
    avg_margin = float((margin * units).sum() / units.sum())
    out = []
    basis = "biên lợi nhuận" if known_cost else "giá bán (chưa có giá vốn, dùng giá thay biên lợi nhuận)"
    for item_id in units.index:
        name = str(menu["name"].get(item_id, item_id)) if "name" in menu else str(item_id)
        popular, profitable = units[item_id] >= popular_at, margin[item_id] >= avg_margin
        nums = {
            "unitsLast28Days": units[item_id],
            "popularityThreshold": popular_at,
            "marginVnd": margin[item_id],
            "averageMarginVnd": avg_margin,
        }
        if popular and not profitable:
            out.append(
                _rec(
                    "menu_plowhorse",
                    str(item_id),
                    f"Xem lại giá hoặc định lượng món {name}",
                    "medium",
                    f"{name} bán chạy ({int(units[item_id])} phần/28 ngày, ngưỡng {popular_at:.0f}) nhưng "
                    f"{basis} {margin[item_id]:,.0f} ₫ thấp hơn trung bình {avg_margin:,.0f} ₫.",
                    **nums,
                )
            )
        elif profitable and not popular:
            out.append(
                _rec(
                    "menu_puzzle",
                    str(item_id),
                    f"Quảng bá món {name}",
                    "medium",
                    f"{name} có {basis} {margin[item_id]:,.0f} ₫ (trung bình {avg_margin:,.0f} ₫) nhưng chỉ "
                    f"bán {int(units[item_id])} phần/28 ngày (ngưỡng {popular_at:.0f}): đặt lên đầu thực đơn "
                    "hoặc gợi ý kèm.",
                    **nums,
                )
            )
    return out


def slow_movers(items: pd.DataFrame, menu: pd.DataFrame) -> list[dict[str, Any]]:
    if items.empty:
        return []
    last = items["day"].max()
    now = items[items["day"] > last - pd.Timedelta(days=14)].groupby("itemId")["quantity"].sum()
    before_mask = (items["day"] <= last - pd.Timedelta(days=14)) & (
        items["day"] > last - pd.Timedelta(days=28)
    )
    before = items[before_mask].groupby("itemId")["quantity"].sum()
    all_ids = now.index.union(before.index)
    now, before = now.reindex(all_ids, fill_value=0), before.reindex(all_ids, fill_value=0)
    average = float(now.mean()) if len(now) else 0.0
    out = []
    for item_id in all_ids:
        if before[item_id] == 0 or now[item_id] >= 0.25 * average or now[item_id] >= 0.8 * before[item_id]:
            continue
        name = str(menu["name"].get(item_id, item_id)) if "name" in menu else str(item_id)
        change = now[item_id] / before[item_id] - 1
        out.append(
            _rec(
                "slow_mover",
                str(item_id),
                f"Món {name} bán chậm",
                "low" if now[item_id] > 0 else "medium",
                f"{name}: {int(now[item_id])} phần trong 14 ngày qua, {change:+.0%} so với 14 ngày trước; "
                f"món trung bình bán {average:.0f} phần. Cân nhắc bỏ khỏi thực đơn hoặc giảm chuẩn bị.",
                unitsLast14Days=now[item_id],
                unitsPrevious14Days=before[item_id],
                averageItemUnits14Days=average,
            )
        )
    return out


def prep_quantities(
    items: pd.DataFrame,
    daily_revenue: pd.Series,
    tomorrow: pd.Timestamp,
    tomorrow_forecast: float,
    menu: pd.DataFrame,
    top: int = 5,
) -> list[dict[str, Any]]:
    """Units to prepare for `tomorrow` for the top sellers of that weekday."""
    same_days = [tomorrow - pd.Timedelta(weeks=k) for k in range(1, 5)]
    base = items[items["day"].isin(same_days)]
    known = [d for d in same_days if d in daily_revenue.index and daily_revenue[d] > 0]
    if base.empty or not known:
        return []
    scale = tomorrow_forecast / float(np.mean([daily_revenue[d] for d in known]))
    per_day = base.pivot_table(index="day", columns="itemId", values="quantity", aggfunc="sum").reindex(
        known, fill_value=0
    )
    per_day = per_day.fillna(0)
    mean, high = per_day.mean() * scale, per_day.quantile(0.8) * scale
    out = []
    for item_id in mean.sort_values(ascending=False).index[:top]:
        name = str(menu["name"].get(item_id, item_id)) if "name" in menu else str(item_id)
        qty, upper = int(np.ceil(mean[item_id])), int(np.ceil(max(high[item_id], mean[item_id])))
        out.append(
            _rec(
                "prep_quantity",
                f"{item_id}:{tomorrow.date().isoformat()}",
                f"Chuẩn bị khoảng {qty}-{upper} phần {name} cho ngày {tomorrow:%d/%m}",
                "high" if upper > 0 else "low",
                f"{len(known)} ngày {VN_WEEKDAYS[tomorrow.weekday()]} gần nhất bán trung bình "
                f"{per_day[item_id].mean():.0f} phần; "
                f"dự báo doanh thu ngày mai bằng {scale:.0%} mức của các ngày đó.",
                expectedUnits=mean[item_id],
                upperUnits=upper,
                forecastScale=scale,
            )
        )
    return out


def promotion_timing(hourly: pd.DataFrame) -> list[dict[str, Any]]:
    """hourly: index local hour timestamps; revenueVnd. The longest run of open hours whose
    average revenue is below half the open-hour average: a happy-hour candidate."""
    if hourly.empty:
        return []
    recent = hourly[hourly.index > hourly.index.max() - pd.Timedelta(days=WINDOW_DAYS)]
    days = max(1, recent.index.normalize().nunique())
    by_hour = recent.groupby(recent.index.hour)["revenueVnd"].sum() / days
    trading_days = recent.groupby(recent.index.hour).apply(lambda g: g.index.normalize().nunique())
    open_hours = by_hour[trading_days >= 0.5 * days]
    if len(open_hours) < 4:
        return []
    mean = float(open_hours.mean())
    trough = [int(h) for h in open_hours.index if open_hours[h] < 0.5 * mean]
    runs: list[list[int]] = []
    for h in trough:
        if runs and h == runs[-1][-1] + 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    # Only troughs between open hours (not the first or last hour of the day) make a promotion slot.
    inner = [r for r in runs if r[0] > open_hours.index.min() and r[-1] < open_hours.index.max()]
    if not inner:
        return []
    run = max(inner, key=len)
    slot_revenue = float(open_hours[run].mean())
    return [
        _rec(
            "promotion_timing",
            f"{run[0]}-{run[-1] + 1}",
            f"Khuyến mãi giờ thấp điểm {run[0]:02d}:00-{run[-1] + 1:02d}:00",
            "medium",
            f"Trong {days} ngày qua, {run[0]:02d}:00-{run[-1] + 1:02d}:00 mang về trung bình "
            f"{slot_revenue:,.0f} ₫/giờ, chưa tới một nửa mức {mean:,.0f} ₫/giờ của các giờ mở cửa khác.",
            slotRevenueVndPerHour=slot_revenue,
            openHourRevenueVndPerHour=mean,
            slotStartHour=run[0],
            slotEndHour=run[-1] + 1,
        )
    ]


PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def rank(recs: list[dict[str, Any]], per_kind: int = 3) -> list[dict[str, Any]]:
    """Most urgent first, at most `per_kind` of each kind (an owner reads a short list)."""
    kept, count = [], dict[str, int]()
    for rec in sorted(recs, key=lambda r: PRIORITY_ORDER[r["priority"]]):
        if count.get(rec["kind"], 0) < per_kind:
            kept.append(rec)
            count[rec["kind"]] = count.get(rec["kind"], 0) + 1
    return kept
