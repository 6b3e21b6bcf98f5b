"""Chain classes of through trips (`transit.timetable.through._classes`): each member joins
the first class, in order of creation, of its own key whose last member it does not
overtake. The classes are tried per key now (the old loop tried every class of the group);
the classes given are exactly the old loop's."""

from __future__ import annotations

import random

import numpy as np

from transit.timetable.through import _classes


def _classes_by_scan(members: list[int], keys: list[bytes], arr: list[np.ndarray],
                     dep: list[np.ndarray]) -> list[int]:
    """The former algorithm: every class of the group tried in order, key compared."""
    last: list[tuple[bytes, int]] = []
    out: list[int] = []
    for i in members:
        for c, (key, j) in enumerate(last):
            if key == keys[i] and (arr[i] >= arr[j]).all() and (dep[i] >= dep[j]).all():
                last[c] = (key, i)
                out.append(c)
                break
        else:
            out.append(len(last))
            last.append((keys[i], i))
    return out


def test_classes_equal_the_scan_over_all_classes() -> None:
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(1, 40)
        keys = [bytes([rng.randint(0, 3)]) for _ in range(n)]
        arr = [np.array([rng.randint(0, 50) for _ in range(3)]) for _ in range(n)]
        dep = [a + rng.randint(0, 5) for a in arr]
        members = rng.sample(range(n), rng.randint(1, n))
        assert _classes(members, keys, arr, dep) == _classes_by_scan(members, keys, arr, dep)


def test_classes_of_one_key_split_where_a_member_overtakes() -> None:
    k = b"k"
    arr = [np.array([0, 10]), np.array([5, 8]), np.array([6, 20]), np.array([1, 9])]
    dep = [a.copy() for a in arr]
    # 1 overtakes 0 (arrives at the second stop sooner): a new class; 2 follows 0; 3
    # overtakes both 2 and 1: a third class
    assert _classes([0, 1, 2, 3], [k, k, k, k], arr, dep) == [0, 1, 0, 2]
    # a member of another key never joins a class of the first, even one it follows
    assert _classes([0, 1], [k, b"x"], [arr[0], arr[0] + 1], [dep[0], dep[0] + 1]) == [0, 1]
