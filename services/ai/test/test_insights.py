import json

import pytest

from lsp_ai.insights import empty_state, record_order, single_argument, summary

ORDER = {
    "orderId": "0b6f3c1e-8a49-4d0a-9c55-2f1f6a7b9d01",
    "tenantId": "11111111-1111-4111-8111-111111111111",
    "locationId": "22222222-2222-4222-8222-222222222222",
    "businessDay": "2026-11-21",
    "createdAt": "2026-11-21T10:15:00.000Z",
    "paymentMethod": "cash",
    "totalVnd": 50000,
    "lines": [
        {
            "itemId": "33333333-3333-4333-8333-333333333333",
            "name": "Cà phê sữa đá",
            "quantity": 2,
            "unitPriceVnd": 25000,
        }
    ],
}


def test_an_event_is_counted_once_however_often_it_is_delivered() -> None:
    state = empty_state()
    assert record_order(state, "e1", ORDER) is True
    assert record_order(state, "e1", ORDER) is False
    assert record_order(state, "e2", {**ORDER, "totalVnd": 30000}) is True
    s = summary("loc", state)
    assert s["ordersSeen"] == 2
    assert s["revenueVnd"] == 80000
    assert s["days"] == [{"businessDay": "2026-11-21", "revenueVnd": 80000, "orders": 2}]
    assert state["hours"]["2026-11-21T10"]["orders"] == 2


def test_seen_ids_are_bounded() -> None:
    state = empty_state()
    for i in range(5003):
        record_order(state, f"e{i}", ORDER)
    assert len(state["seen"]) == 5000
    assert state["seen"][0] == "e3"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [([], {}), ([{"a": 1}], {"a": 1}), ({"a": 1}, {"a": 1}), (None, {})],
)
def test_single_argument_accepts_js_arrays_and_python_objects(arg: object, expected: dict) -> None:
    assert single_argument(arg) == expected


def test_single_argument_rejects_scalars() -> None:
    with pytest.raises(TypeError):
        single_argument(42)


def test_summary_is_plain_json_even_with_numpy_numbers() -> None:
    np = pytest.importorskip("numpy")
    state = empty_state()
    record_order(state, "e1", ORDER)
    state["days"]["2026-11-21"]["revenueVnd"] = np.int64(50000)
    s = summary("loc", state)
    assert json.loads(json.dumps(s)) == s
