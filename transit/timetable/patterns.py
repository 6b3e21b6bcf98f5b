"""Grouping trips into patterns that RAPTOR can scan: same stops, and no overtaking."""

from __future__ import annotations

import numpy as np


def split_overtaking(order: list[int], arr: list[np.ndarray], dep: list[np.ndarray]
                     ) -> list[list[int]]:
    """Split trips of one stop sequence (sorted by first departure) into groups in which no
    trip overtakes another, so a pattern's trips are ordered at every stop."""
    groups: list[list[int]] = []
    for t in order:
        for g in groups:
            last = g[-1]
            if (arr[t] >= arr[last]).all() and (dep[t] >= dep[last]).all():
                g.append(t)
                break
        else:
            groups.append([t])
    return groups
