"""Shared test fixtures."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def tiny_ratings() -> pd.DataFrame:
    """Nine hand-made ratings of 4 users on 5 items (user 4 rated only once).

    The timestamps have a tie (user 1, items 2 and 3) so that temporal splits
    must break it by row order.
    """
    return pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
            "item_id": [1, 2, 3, 1, 4, 2, 3, 5, 5],
            "rating": [5, 3, 4, 1, 2, 5, 4, 3, 2],
            "timestamp": [100, 300, 300, 50, 60, 10, 30, 20, 7],
        }
    )
