"""Run once in each fit worker at start-up: imports and a tiny fit, so later calls are warm."""

import pandas as pd


def warm_up() -> bool:
    from lsp_ai import analysis, forecast

    series = pd.Series([10.0 + (i % 7) for i in range(28)], index=pd.date_range("2026-01-05", periods=28))
    forecast.predict(series, 7)
    return analysis.MODEL_HORIZON_DAYS > 0
