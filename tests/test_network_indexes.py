"""The search indexes stored with a compiled version (`transit.routing.network_indexes`):
equal, array for array, to what a worker would derive from the version itself; a version
compiled before they were stored is served with indexes computed in the process (logged),
and its searches find the same journeys."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.journey_worlds import random_feeds
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.routing import network_indexes
from transit.routing.network import Network
from transit.routing.search import Query, Searcher
from transit.timetable.departures import next_departures
from transit.timetable.store import Store
from transit.timetable.timetable import FormatError, Timetable


@pytest.fixture(scope="module")
def version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compiled version of random feeds: blocks, through trips, change times, and trip-
    and route-specific transfers.txt rules."""
    d = tmp_path_factory.mktemp("network-indexes")
    feeds = random_feeds(random.Random(11), d, rules=True)
    ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
    store = Store(d / "data")
    ingest(Catalog(ops), store)
    name = store.current_version()
    assert name is not None
    return store.versions_dir / name


def test_stored_indexes_equal_the_computed_ones(version: Path) -> None:
    tt = Timetable.load(version)
    stored = network_indexes.stored(tt.columns)
    assert stored is not None
    computed = network_indexes.build(Network.computed(tt))
    assert sorted(stored) == sorted(computed) == sorted(network_indexes.NAMES)
    for name in network_indexes.NAMES:
        assert stored[name].dtype == computed[name].dtype, name
        np.testing.assert_array_equal(stored[name], computed[name], err_msg=name)
    # the version has through trips and transfer rules to store, not only empty arrays
    assert len(stored["thr_first"]) > 0
    assert len(stored["lb_in_from"]) > 0


def test_the_network_maps_the_stored_indexes(version: Path) -> None:
    """Network.of takes the stored arrays themselves (read-only maps of the version's files),
    and the Searcher reads them rather than copies."""
    tt = Timetable.load(version)
    net = Network.of(tt)
    for name in network_indexes.NAMES:
        arr = net.derived[name]
        assert not arr.flags.writeable, name
        # (an empty array cannot be mapped: it is read from its file)
        assert arr.size == 0 or np.shares_memory(
            arr, np.asarray(tt.columns[network_indexes.PREFIX + name])), name
    s = Searcher(net)
    assert s.lower_bounds.in_from is net.derived["lb_in_from"]
    assert s._cols[1] is net.derived["cols_dep"]
    assert net.rules[0] is net.derived["rule_e_offsets"]


def _old_copy(version: Path, tmp: Path) -> Path:
    """The version as an older release compiled it: without the rx_* columns."""
    old = tmp / version.name
    shutil.copytree(version, old)
    for f in old.glob(f"{network_indexes.PREFIX}*.npy"):
        f.unlink()
    return old


def _journeys(s: Searcher, n_stops: int) -> list[list[object]]:
    out = []
    t0 = int(np.asarray(s.net.tz_reference_utc).min()) + 7 * 3600
    for a in range(min(n_stops, 8)):
        for b in range(min(n_stops, 8)):
            if a != b:
                q = Query(origins=[(a, 0)], destinations=[(b, 0)], time=t0)
                out.append([(j.departure, j.arrival, j.trips, [(leg.kind, leg.trip)
                            for leg in j.legs]) for j in s.depart_at(q)])
    return out


def test_an_old_version_gets_them_computed_and_logged(
        version: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = Timetable.load(_old_copy(version, tmp_path))
    assert network_indexes.stored(old.columns) is None
    with caplog.at_level(logging.INFO, logger="transit.routing"):
        net_old = Network.of(old)
    assert [r.getMessage() for r in caplog.records
            if r.name == "transit.routing"] == [
        f"version {old.version} has no stored search indexes (compiled by an older release): "
        "computing them in this process"]
    new = Timetable.load(version)
    net_new = Network.of(new)
    for name in network_indexes.NAMES:
        np.testing.assert_array_equal(net_old.derived[name], net_new.derived[name],
                                      err_msg=name)
    n = len(new.sp_offsets) - 1
    assert _journeys(Searcher(net_old), n) == _journeys(Searcher(net_new), n)


def test_a_version_with_them_logs_nothing(version: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="transit.routing"):
        Network.of(Timetable.load(version))
    assert [r for r in caplog.records if r.name == "transit.routing"] == []


NARROWED = {"ev_tz": np.int16, "ev_pos": np.int32, "st_seq": np.int32,
            "rx_prev_in_block": np.int64,
            **{f"rx_lb_{f}": np.int64 for f in network_indexes.LOWER_BOUNDS}}


def test_integer_columns_are_stored_narrow(version: Path) -> None:
    """Format 13: what format 12 stored in wider integers (see NARROWED) takes the narrowest
    width its values need on any real network."""
    tt = Timetable.load(version)
    assert tt.meta["format"] == 13
    assert np.asarray(tt.ev_tz).dtype == np.int8
    assert np.asarray(tt.ev_pos).dtype == np.int16
    assert np.asarray(tt.st_seq).dtype == np.int16
    assert np.asarray(tt.rx_prev_in_block).dtype == np.asarray(tt.trip_next_in_block).dtype
    for f in network_indexes.LOWER_BOUNDS:
        assert np.asarray(tt.columns[f"rx_lb_{f}"]).dtype == np.int32, f


def _with_format(version: Path, tmp: Path, fmt: int) -> Path:
    """The version as format `fmt` wrote it: the columns of NARROWED in their old widths."""
    old = tmp / version.name
    shutil.copytree(version, old)
    for name, dtype in NARROWED.items():
        np.save(old / f"{name}.npy", np.load(old / f"{name}.npy").astype(dtype))
    meta = json.loads((old / "meta.json").read_text())
    (old / "meta.json").write_text(json.dumps({**meta, "format": fmt}))
    return old


def test_a_format_12_version_is_served_with_the_same_answers(version: Path,
                                                              tmp_path: Path) -> None:
    old = Timetable.load(_with_format(version, tmp_path, 12))
    new = Timetable.load(version)
    assert np.asarray(old.rx_lb_in_w).dtype == np.int64
    n = len(new.sp_offsets) - 1
    assert _journeys(Searcher(Network.of(old)), n) == _journeys(Searcher(Network.of(new)), n)
    at = int(np.asarray(new.tz_reference_utc).min()) + 6 * 3600
    stops = np.arange(min(n, 8))
    assert next_departures(old, stops, at, at + 86400, 50) == next_departures(
        new, stops, at, at + 86400, 50) != []


def test_an_older_format_is_refused_with_what_to_do(version: Path, tmp_path: Path) -> None:
    old = _with_format(version, tmp_path, 11)
    with pytest.raises(FormatError) as err:
        Timetable.load(old)
    assert str(err.value) == (f"timetable {old.name} has format 11, this release reads "
                              "format 12 or 13: run `transit ingest`")
