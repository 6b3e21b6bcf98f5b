"""Word index over stop names in every language: sorted words -> places (CSR)."""

from __future__ import annotations

import numpy as np

from transit.timetable.names import tokens
from transit.timetable.strings import StringColumn


def build_name_index(names_by_place: list[list[str]], places: np.ndarray
                     ) -> dict[str, StringColumn | np.ndarray]:
    postings: dict[str, set[int]] = {}
    for place, names in zip(places, names_by_place, strict=True):
        for name in names:
            for tok in tokens(name):
                postings.setdefault(tok, set()).add(int(place))
    words = sorted(postings)
    lists = [sorted(postings[w]) for w in words]
    counts = np.array([len(x) for x in lists], dtype=np.int64)
    return {
        "name_words": StringColumn.from_list(words),
        "name_word_offsets": np.r_[0, np.cumsum(counts)].astype(np.int64),
        "name_word_stops": np.array([s for x in lists for s in x], dtype=np.int32),
    }
