"""Options riders expect: excluded routes and stops, via a place, the parameters in the
OpenAPI document, and options that never cost a compilation after the warm-up."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import client_for
from tests.journey_support import changing, feed, stops_txt, summary, trips_of, via_network
from transit.routing import raptor


def _dispatchers() -> dict[str, object]:
    """Every numba-compiled function of the search (its modules' globals)."""
    from numba.core.registry import CPUDispatcher

    from transit.routing import indexes, lower_bounds, rule_kernels, search
    out = {}
    for m in (raptor, rule_kernels, search, lower_bounds, indexes):
        for name, f in vars(m).items():
            if isinstance(f, CPUDispatcher):
                out[f"{f.__module__}.{name}"] = f
    return out


def test_options_compile_nothing_after_the_warm_up(tmp_path: Path, planner) -> None:
    # every option is data for the kernels the server compiles (or loads) before it is
    # ready: after the warm-up no request compiles a new variant of any of them
    f = feed(tmp_path / "w", "W", stops_txt(
        ("S1", "One", 50.0, 4.0, 1), ("S3", "Three", 50.02, 4.0, 1), ("S4", "Four", 50.03, 4.0, 0),
        ("S5", "Five", 50.04, 4.0, 1)), "R1,W,1,Line,3\n",
        "route_id,service_id,trip_id,wheelchair_accessible\nR1,DAILY,ACC,1\nR1,DAILY,ACC2,1\n"
        "R1,DAILY,UNK,\n",
        "ACC,08:05:00,08:05:00,S1,1\nACC,08:20:00,08:20:00,S5,2\n"
        "ACC2,08:25:00,08:25:00,S5,1\nACC2,08:30:00,08:31:00,S4,2\nACC2,08:40:00,08:40:00,S3,3\n"
        "UNK,08:02:00,08:02:00,S1,1\nUNK,08:29:00,08:29:00,S3,2\n")
    w = planner({"W": f}, "2026-05-05T07:00:00+02:00")
    p = planner(changing(tmp_path / "q", "X,X,2,300,,,T8,T4\n", "R9,DAILY,T8,\nR2,DAILY,T4,\n",
                          "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                          "T8,08:40:00,08:40:00,B,3\n"
                          "T4,08:25:00,08:25:00,X,1\nT4,08:35:00,08:35:00,B,2\n"),
                "2026-05-05T07:00:00+02:00")
    kernels = _dispatchers()
    assert len(kernels) >= 10
    before = {n: len(k.signatures) for n, k in kernels.items()}  # type: ignore[attr-defined]
    wq = {"from": "W:S1", "to": "W:S3", "depart_at": "2026-05-05T07:55:00+02:00"}
    for params in ({**wq, "wheelchair": "true"},
                   {**wq, "wheelchair": "true", "wheelchair_unknown": "true"},
                   {"from": "W:S1", "to": "W:S3", "arrive_by": "2026-05-05T08:45:00+02:00",
                    "wheelchair": "true"}):
        assert w.get(**params)["journeys"], params
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    by = {"from": "Q:A", "to": "Q:B", "arrive_by": "2026-05-05T08:50:00+02:00"}
    for params in ({**q, "modes": "bus"}, {**q, "exclude_modes": "rail"},
                   {**q, "operators": "Q"}, {**q, "exclude_routes": "Q:R2"},
                   {**q, "exclude_stops": "Q:X"},
                   {**q, "exclude_stops": "Q:X", "exclude_passing": "true"},
                   {**q, "via": "Q:X"}, {**q, "via": "Q:X", "via_min_stay": 10},
                   {**by, "via": "Q:X"},
                   {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:10:00+02:00"},
                   {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:10:00+02:00",
                    "modes": "bus", "min_transfer_s": 60},
                   by, {**by, "exclude_routes": "Q:R9"}, {**q, "window": 60},
                   {**q, "window": 60, "exclude_stops": "Q:X"},
                   {**q, "min_transfer_s": 120, "max_transfers": 1}):
        assert p.get(**params)["journeys"], params
    after = {n: len(k.signatures) for n, k in kernels.items()}  # type: ignore[attr-defined]
    assert {n: (before[n], after[n]) for n in after if after[n] != before[n]} == {}




def test_exclude_routes_and_stops(tmp_path: Path, planner) -> None:
    # T8 A 08:06 -> X 08:20 -> B 08:40 passes X
    p = planner(changing(tmp_path, "", "R9,DAILY,T8,\n",
                          "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                          "T8,08:40:00,08:40:00,B,3\n"), "2026-05-05T07:00:00+02:00")
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    assert trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    assert trips_of(p.plan(**q, exclude_routes="Q:R2")) == [["Q:T8"]]
    assert trips_of(p.plan(**q, exclude_routes="Q:R2,Q:R9")) == []
    # no change at X; T8 only passes there
    assert trips_of(p.plan(**q, exclude_stops="Q:X")) == [["Q:T8"]]
    # a closed station: no trip calling at X at all
    assert trips_of(p.plan(**q, exclude_stops="Q:X", exclude_passing="true")) == [["Q:T9"]]
    assert trips_of(p.plan(**q, exclude_passing="true")) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    body = p.get(**{**q, "to": "Q:X"}, exclude_stops="Q:X")
    assert body["journeys"] == []
    for bad in ({"exclude_routes": "Q:NOPE"}, {"exclude_stops": "Q:A,Q:NOPE"},
                {"exclude_routes": "x" * 2001}):
        r = p.client.get("/v1/journeys", params={**q, **bad})
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(bad)) in r.text




def test_via_a_place_with_a_minimum_stay(tmp_path: Path, planner) -> None:
    p = planner(via_network(tmp_path), "2026-05-05T07:00:00+02:00")
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    assert trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    # through X (getting off there): T1 + T2, or T8 to X and T4 on (arrives later)
    assert trips_of(p.plan(**q, via="Q:X")) == [["Q:T1", "Q:T2"]]
    # 10 minutes at X: T1 arrives 08:10, T2 (08:15) is missed; T8 arrives 08:20, too late
    # for T4 (08:25): T1, then T4
    js = p.plan(**q, via="Q:X", via_min_stay=10)
    assert [summary(j) for j in js] == [[
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:35:00+02:00")]]
    assert js[0]["transfers"] == 1
    # arrive by 08:50: the latest such departure is the same
    js = p.plan(**{"from": "Q:A", "to": "Q:B"}, arrive_by="2026-05-05T08:50:00+02:00",
                via="Q:X", via_min_stay=10)
    assert trips_of(js) == [["Q:T1", "Q:T4"]]
    for bad in ({"via": "Q:NOPE"}, {"via": "50.0,4.0"}, {"via": "Q:X", "window": 30},
                {"via": "Q:X", "via_min_stay": 601}):
        r = p.client.get("/v1/journeys", params={**q, **bad})
        assert r.status_code in (404, 422), bad
        assert r.headers["content-type"].startswith("application/problem+json")




def test_journeys_parameters_in_the_openapi_document(tmp_path: Path) -> None:
    # the parameters come from four dependencies (transit.journeys.params): the document
    # lists them in the order and with the constraints the endpoint always had
    spec = client_for(tmp_path, "2026-05-05T07:00:00+02:00").app.openapi()  # type: ignore[attr-defined]
    params = spec["paths"]["/v1/journeys"]["get"]["parameters"]
    assert [x["name"] for x in params] == [
        "to", "from", "depart_at", "arrive_by", "window", "max_transfers", "max_walk_m",
        "walk_speed", "min_transfer_s", "wheelchair", "modes", "exclude_modes", "operators",
        "exclude_operators", "wheelchair_unknown", "exclude_routes", "exclude_stops",
        "exclude_passing", "via", "via_min_stay", "from_trip", "from_date", "rider_category",
        "preview", "lang"]
    by = {x["name"]: x for x in params}
    assert by["to"]["required"] and not by["from"]["required"]
    assert by["from"]["description"] == "stop id, station id, or lat,lon (or from_trip)"
    assert (by["window"]["schema"]["maximum"], by["window"]["schema"]["default"]) == (180, 0)
    assert by["walk_speed"]["schema"]["anyOf"][0]["exclusiveMinimum"] == 0.3
    assert by["rider_category"]["schema"]["anyOf"][0]["pattern"] == r"^[A-Za-z0-9_.:-]+$"
