"""Accepting and dismissing recommendations: what is recorded, what the actor learns, and the
before/after measure of accepted menu changes, checked against the shared answer contracts."""

import copy
from datetime import UTC, date, datetime, timedelta

import pytest

from lsp_ai import feedback
from lsp_ai.events import contracts
from lsp_ai.insights import InsightsState, empty_state

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam
ITEM = "c1a0b2c3-d4e5-4f60-8a7b-000000000101"


def rec(kind: str, key: str, priority: str = "high") -> dict[str, object]:
    return {
        "id": f"{kind}:{key}",
        "kind": kind,
        "title": f"{kind} {key}",
        "priority": priority,
        "reason": "lý do",
        "evidence": [{"name": "units", "value": 3.0}],
    }


def act(
    fb: feedback.FeedbackState,
    recs: list[dict[str, object]],
    rec_id: str,
    action: feedback.Action,
    now: datetime = NOW,
) -> tuple[feedback.ActionRecord, bool]:
    return feedback.act(
        fb,
        recs,
        rec_id,
        action,
        now=now,
        business_day="2026-11-29",
        user_id="u1",
        dismiss_reason="không hợp" if action == "dismissed" else None,
    )


def test_business_day_follows_the_cutover_on_the_location_clock() -> None:
    # 20:30 UTC = 03:30 next day in Vietnam: before a 04:00 cut-over it is still the 28th's business day.
    assert (
        feedback.business_day_of(datetime(2026, 11, 28, 20, 30, tzinfo=UTC), "Asia/Ho_Chi_Minh", 4)
        == "2026-11-28"
    )
    assert (
        feedback.business_day_of(datetime(2026, 11, 28, 21, 0, tzinfo=UTC), "Asia/Ho_Chi_Minh", 4)
        == "2026-11-29"
    )


def test_dismissed_kinds_come_back_less_and_return_after_the_window() -> None:
    recs = [rec("menu_puzzle", str(i)) for i in range(5)] + [rec("slow_mover", "a", "medium")]
    fb = feedback.empty_feedback()
    shown = feedback.open_recommendations(recs, fb, NOW)
    assert [r["id"] for r in shown if r["kind"] == "menu_puzzle"] == [
        "menu_puzzle:0",
        "menu_puzzle:1",
        "menu_puzzle:2",
    ]

    act(fb, recs, "menu_puzzle:0", "dismissed")
    shown = feedback.open_recommendations(recs, fb, NOW)
    puzzles = [r for r in shown if r["kind"] == "menu_puzzle"]
    assert [r["id"] for r in puzzles] == ["menu_puzzle:1", "menu_puzzle:2"]  # 3 minus 1 of the kind
    assert {r["priority"] for r in puzzles} == {"medium"}  # one step down
    assert [r["priority"] for r in shown if r["kind"] == "slow_mover"] == ["medium"]  # other kinds untouched

    act(fb, recs, "menu_puzzle:1", "dismissed")
    act(fb, recs, "menu_puzzle:2", "dismissed")
    assert [r for r in feedback.open_recommendations(recs, fb, NOW) if r["kind"] == "menu_puzzle"] == []

    # An acceptance of the kind earns one back.
    act(fb, recs, "menu_puzzle:3", "accepted")
    shown = feedback.open_recommendations(recs, fb, NOW)
    assert [(r["id"], r["priority"]) for r in shown if r["kind"] == "menu_puzzle"] == [
        ("menu_puzzle:4", "low")
    ]

    # Past the window the dismissals no longer count; the dismissed ones may come back too.
    later = NOW + timedelta(days=feedback.DISMISS_WINDOW_DAYS + 1)
    back = [r for r in feedback.open_recommendations(recs, fb, later) if r["kind"] == "menu_puzzle"]
    assert [r["id"] for r in back] == ["menu_puzzle:0", "menu_puzzle:1", "menu_puzzle:2"]
    assert {r["priority"] for r in back} == {"high"}


def test_actions_are_recorded_once_and_mistakes_write_nothing() -> None:
    recs = [rec("menu_plowhorse", ITEM), rec("promotion_timing", "14-16", "medium")]
    fb = feedback.empty_feedback()
    record, new = act(fb, recs, f"menu_plowhorse:{ITEM}", "accepted")
    assert new and record["status"] == "accepted" and record["itemId"] == ITEM and record["by"] == "u1"
    _, again = act(fb, recs, f"menu_plowhorse:{ITEM}", "accepted")
    assert not again and len(fb["actions"]) == 1

    before = copy.deepcopy(fb)
    with pytest.raises(feedback.AlreadyActed):
        act(fb, recs, f"menu_plowhorse:{ITEM}", "dismissed")
    with pytest.raises(feedback.UnknownRecommendation):
        act(fb, recs, "menu_puzzle:nope", "accepted")
    assert fb == before

    record, _ = act(fb, recs, "promotion_timing:14-16", "dismissed")
    assert record["dismissReason"] == "không hợp" and record["itemId"] is None  # not an item change


def _history(first: str, days: int, units_before: int, units_after: int, change_day: str) -> InsightsState:
    state = empty_state()
    state["itemNames"] = {ITEM: "Phở bò tái"}
    d = date.fromisoformat(first)
    for _ in range(days):
        units = units_before if d.isoformat() < change_day else units_after
        state["days"][d.isoformat()] = {
            "revenueVnd": 1_000_000,
            "orders": 20,
            "items": {ITEM: [units, units * 55_000]},
        }
        d += timedelta(days=1)
    return state


def test_an_accepted_menu_change_gets_a_before_after_measure_that_matches_the_contract() -> None:
    recs = [rec("menu_plowhorse", ITEM), rec("slow_mover", "x")]
    fb = feedback.empty_feedback()
    feedback.act(
        fb,
        recs,
        f"menu_plowhorse:{ITEM}",
        "accepted",
        now=NOW,
        business_day="2026-11-10",
        user_id=None,
        dismiss_reason=None,
    )
    # 10 a day before the change, 6 a day from the day after it; the history starts 5 days before.
    state = _history("2026-11-05", 30, 10, 6, "2026-11-10")
    # Only 3 whole days after it so far.
    partial = feedback.outcome(state, fb["actions"][0], today="2026-11-14")
    assert partial is not None
    assert partial["before"]["days"] == 5  # history starts on the 5th: days before it do not count
    assert partial["before"]["unitsPerDay"] == 10 and partial["before"]["revenueVndPerDay"] == 550_000
    assert (partial["after"]["from"], partial["after"]["to"], partial["after"]["days"]) == (
        "2026-11-11",
        "2026-11-13",
        3,
    )
    assert partial["after"]["unitsPerDay"] == 6
    assert partial["unitsChange"] == pytest.approx(-0.4) and not partial["complete"]
    assert partial["locationRevenueChange"] == 0.0
    full = feedback.outcome(state, fb["actions"][0], today="2026-12-01")
    assert full is not None and full["complete"] and full["after"]["days"] == feedback.MEASURE_DAYS
    # Accepted today: nothing after yet.
    fresh = feedback.outcome(state, fb["actions"][0], today="2026-11-10")
    assert fresh is not None and fresh["after"]["days"] == 0 and fresh["unitsChange"] is None

    listing = feedback.listing(recs, fb, state, NOW, "2026-11-14")
    assert [(r["id"], r["status"]) for r in listing] == [
        ("slow_mover:x", "open"),
        (f"menu_plowhorse:{ITEM}", "accepted"),
    ]
    answer = {"locationId": "l", "trainedAt": NOW.isoformat(), "items": listing}
    assert contracts.validate("ai.answer.recommendations", answer) == answer
    action = {"locationId": "l", "result": "recorded", "message": None, "item": listing[1]}
    assert contracts.validate("ai.answer.recommendation-action", action) == action
    with pytest.raises(ValueError):
        contracts.validate(
            "ai.answer.recommendations", answer | {"items": [listing[0] | {"status": "maybe"}]}
        )
