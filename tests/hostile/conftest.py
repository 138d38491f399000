"""The whole hostile corpus runs only when asked for (``-m hostile``); its fast subset always runs."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "hostile" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("hostile") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("hostile") is None]
