"""What owners did with the recommendations, and what the actor learns from it (pure, no Dapr).

An owner or manager accepts or dismisses a recommendation by id (one of the recommendations the
location's model currently gives). The actor keeps every action in its state (`feedback`) and:

- **Dismissed kinds come back less.** For each kind, n = the dismissals of that kind in the last
  `DISMISS_WINDOW_DAYS` days minus its acceptances in the same window (never below 0). The open
  recommendations of that kind are shown at most `PER_KIND - n` at a time (3, 2, 1, then none)
  and each is lowered n priority steps (high → medium → low). A dismissed recommendation itself
  is never shown as open again while its dismissal is in the window. The same rule filters what a
  retrain publishes to the owner's feed. As dismissals age out of the window the kind comes back.
- **Accepted menu changes are measured.** For an accepted recommendation about one item
  (`MEASURED_KINDS`: review the price or portion, promote, drop a slow mover), the item's units
  and revenue per business day over the `MEASURE_DAYS` business days before the acceptance
  against the business days after it (up to `MEASURE_DAYS`, so far), next to the location's
  revenue per day over the same windows (did the item move, or the whole restaurant?). A day
  without a sale of the item counts as 0; days before the series starts are not counted.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypedDict
from zoneinfo import ZoneInfo

from lsp_ai.insights import InsightsState

DISMISS_WINDOW_DAYS = 60
PER_KIND = 3
MEASURE_DAYS = 14
MAX_ACTIONS = 500
MAX_REASON_CHARS = 500
# Kinds whose recommendation is a change to one item of the menu (its id's key is the item id).
MEASURED_KINDS = frozenset({"menu_plowhorse", "menu_puzzle", "slow_mover"})
PRIORITIES = ["high", "medium", "low"]

Action = Literal["accepted", "dismissed"]


class ActionRecord(TypedDict, total=False):
    id: str
    kind: str
    title: str
    reason: str  # the recommendation's reason, as it was when acted on
    priority: str
    evidence: list[dict[str, Any]]
    status: Action
    at: str  # ISO instant
    businessDay: str  # the location's business day at the time
    by: str | None  # user id
    dismissReason: str | None
    itemId: str | None


class FeedbackState(TypedDict):
    actions: list[ActionRecord]


def empty_feedback() -> FeedbackState:
    return {"actions": []}


class UnknownRecommendation(LookupError):
    """No current recommendation of the location has this id."""


class AlreadyActed(ValueError):
    """The recommendation was already accepted or dismissed (the other action is refused)."""


def business_day_of(now: datetime, time_zone: str, cutover_hour: int) -> str:
    """The location's business day at `now`: its local date, the day before until the cut-over
    (the same rule as contracts' businessDay)."""
    local = now.astimezone(ZoneInfo(time_zone))
    day = local.date() if local.hour >= cutover_hour else local.date() - timedelta(days=1)
    return day.isoformat()


def item_of(rec_id: str, kind: str) -> str | None:
    """The item a menu recommendation is about (`kind:itemId`), None for other kinds."""
    if kind not in MEASURED_KINDS:
        return None
    prefix = f"{kind}:"
    return rec_id[len(prefix) :] if rec_id.startswith(prefix) else None


def _in_window(record: ActionRecord, now: datetime) -> bool:
    at = datetime.fromisoformat(record["at"])
    return now - at <= timedelta(days=DISMISS_WINDOW_DAYS)


def kind_penalties(feedback: FeedbackState, now: datetime) -> dict[str, int]:
    """n per kind: dismissals minus acceptances within the window, never below 0."""
    score: dict[str, int] = {}
    for r in feedback["actions"]:
        if _in_window(r, now):
            score[r["kind"]] = score.get(r["kind"], 0) + (1 if r["status"] == "dismissed" else -1)
    return {k: n for k, n in score.items() if n > 0}


def window_changes_at(feedback: FeedbackState, now: datetime) -> datetime | None:
    """The next instant after `now` at which an action leaves the window (what `listing` and
    `open_recommendations` answer changes then, with nothing recorded); None if none will."""
    ends = [
        datetime.fromisoformat(r["at"]) + timedelta(days=DISMISS_WINDOW_DAYS) for r in feedback["actions"]
    ]
    return min((end for end in ends if end >= now), default=None)


def _lowered(priority: str, steps: int) -> str:
    return PRIORITIES[min(len(PRIORITIES) - 1, PRIORITIES.index(priority) + steps)]


def open_recommendations(
    recs: list[dict[str, Any]], feedback: FeedbackState, now: datetime
) -> list[dict[str, Any]]:
    """The model's recommendations an owner still has to decide on, after the kind rule."""
    acted = {r["id"] for r in feedback["actions"] if r["status"] == "accepted" or _in_window(r, now)}
    penalties = kind_penalties(feedback, now)
    shown: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for rec in recs:
        if rec["id"] in acted:
            continue
        n = penalties.get(rec["kind"], 0)
        if shown.get(rec["kind"], 0) >= PER_KIND - n:
            continue
        shown[rec["kind"]] = shown.get(rec["kind"], 0) + 1
        out.append(rec | {"priority": _lowered(rec["priority"], n)})
    return out


def act(
    feedback: FeedbackState,
    current: list[dict[str, Any]],
    rec_id: str,
    action: Action,
    *,
    now: datetime,
    business_day: str,
    user_id: str | None,
    dismiss_reason: str | None,
) -> tuple[ActionRecord, bool]:
    """Records an action on one of `current` (the model's recommendations). Returns the record
    and whether it is new; repeating the same action changes nothing, the opposite one is
    refused (AlreadyActed), an id not among `current` nor acted on is UnknownRecommendation."""
    for r in feedback["actions"]:
        if r["id"] == rec_id and (r["status"] == "accepted" or _in_window(r, now)):
            if r["status"] == action:
                return r, False
            raise AlreadyActed(f"recommendation {rec_id} was already {r['status']}")
    rec = next((r for r in current if r["id"] == rec_id), None)
    if rec is None:
        raise UnknownRecommendation(f"recommendation {rec_id} not found")
    record: ActionRecord = {
        "id": rec_id,
        "kind": str(rec["kind"]),
        "title": str(rec["title"]),
        "reason": str(rec["reason"]),
        "priority": str(rec["priority"]),
        "evidence": list(rec.get("evidence", [])),
        "status": action,
        "at": now.astimezone(UTC).isoformat(),
        "businessDay": business_day,
        "by": user_id,
        "dismissReason": dismiss_reason,
        "itemId": item_of(rec_id, str(rec["kind"])),
    }
    feedback["actions"].append(record)
    del feedback["actions"][:-MAX_ACTIONS]
    return record, True


def _window(state: InsightsState, item_id: str, first: date, last: date) -> dict[str, Any]:
    days = state.get("days", {})
    series_start = min(days, default=None)
    units = revenue = location_revenue = count = 0
    d = first
    while d <= last:
        key = d.isoformat()
        if series_start is not None and key >= series_start:
            count += 1
            figures = days.get(key)
            if figures is not None:
                u, r = figures.get("items", {}).get(item_id, [0, 0])
                units, revenue = units + int(u), revenue + int(r)
                location_revenue += int(figures["revenueVnd"])
        d += timedelta(days=1)

    def per_day(x: int) -> float:
        return x / count if count else 0.0

    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": count,
        "units": units,
        "revenueVnd": revenue,
        "unitsPerDay": round(per_day(units), 4),
        "revenueVndPerDay": round(per_day(revenue), 2),
        "locationRevenueVndPerDay": round(per_day(location_revenue), 2),
    }


def outcome(state: InsightsState, record: ActionRecord, today: str) -> dict[str, Any] | None:
    """Before/after of the item an accepted menu change is about; None for other actions. The
    acceptance day itself belongs to neither window (the change took effect during it)."""
    item_id = record.get("itemId")
    if record["status"] != "accepted" or not item_id:
        return None
    accepted = date.fromisoformat(record["businessDay"])
    before = _window(state, item_id, accepted - timedelta(days=MEASURE_DAYS), accepted - timedelta(days=1))
    last_after = min(accepted + timedelta(days=MEASURE_DAYS), date.fromisoformat(today) - timedelta(days=1))
    after = _window(state, item_id, accepted + timedelta(days=1), last_after)  # empty until a day passed

    def rel(field: str) -> float | None:
        now, then = float(after[field]), float(before[field])
        return round(now / then - 1, 4) if after["days"] and then else None

    return {
        "itemId": item_id,
        "itemName": state.get("itemNames", {}).get(item_id, item_id),
        "before": before,
        "after": after,
        "complete": after["days"] >= MEASURE_DAYS,
        "unitsChange": rel("unitsPerDay"),
        "revenueChange": rel("revenueVndPerDay"),
        "locationRevenueChange": rel("locationRevenueVndPerDay"),
    }


def listing(
    recs: list[dict[str, Any]], feedback: FeedbackState, state: InsightsState, now: datetime, today: str
) -> list[dict[str, Any]]:
    """What `recommendations` answers: the open ones (status open), then those acted on, most
    recent first (status accepted or dismissed, with the measure of accepted menu changes)."""
    out = [rec | {"status": "open"} for rec in open_recommendations(recs, feedback, now)]
    for r in reversed(feedback["actions"]):
        out.append(view(r, state, today))
    return out


def view(record: ActionRecord, state: InsightsState, today: str) -> dict[str, Any]:
    """An acted-on recommendation as the edge shows it."""
    return {
        "id": record["id"],
        "kind": record["kind"],
        "title": record["title"],
        "priority": record.get("priority", "low"),
        "reason": record["reason"],
        "evidence": record.get("evidence", []),
        "status": record["status"],
        "actedAt": record["at"],
        "dismissReason": record.get("dismissReason"),
        "outcome": outcome(state, record, today),
    }
