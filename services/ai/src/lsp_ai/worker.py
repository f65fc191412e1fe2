"""Entry point of the fit worker processes: the only place pandas, statsmodels and scikit-learn
are imported, so the actor host starts fast and its event loop never runs model code."""

from collections.abc import Callable
from typing import Any


def run(task: str, *args: Any) -> Any:
    from lsp_ai import analysis  # imported once per worker process, on its first task

    tasks: dict[str, Callable[..., Any]] = {
        "train": analysis.train,
        "item_forecast": analysis.item_forecast,
        "pricing": analysis.pricing_analysis,
        "warm_up": analysis.warm_up,
    }
    return analysis.to_json(tasks[task](*args))
