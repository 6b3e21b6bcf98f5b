"""The commuter's own data over HTTP on SQLite and PostgreSQL: export and erase, the
profile (validation, defaults applied to departures, journeys and alerts, overridden by the
query), favourites (CRUD, limits, other users' ids), and the board with live times and
alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from google.transit import gtfs_realtime_pb2 as pb
from sqlalchemy import func, select

from tests import databases
from tests.commuters_support import PASSWORD, Commuters, module_commuters
from tests.operator_support import NOW
from tests.realtime_support import event, feed, stu, trip_update
from transit.db.models_users import FavouriteRow, UserRow, UserTokenRow

# Operator A: a bus (R1) and a tram (R2) from S1; operator B: the base bus. Clock: 08:00
# in Brussels on 2026-06-01.
FILES = {
    "A": {
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                      "R1,A,1,Line One,3\nR2,A,2,Tram Two,0\n",
        "trips.txt": "route_id,service_id,trip_id,trip_headsign\n"
                     "R1,DAILY,T1,Third\nR2,DAILY,T2,Second\nR1,DAILY,T3,Third\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,2\n"
                          "T1,08:20:00,08:20:00,S3,3\n"
                          "T2,08:05:00,08:05:00,S1,1\nT2,08:12:00,08:12:00,S2,2\n"
                          "T3,08:30:00,08:30:00,S1,1\nT3,08:40:00,08:40:00,S2,2\n"
                          "T3,08:50:00,08:50:00,S3,3\n",
    },
}
PUSH_KEY = "push-secret-of-A-for-commuters"


@pytest.fixture(scope="module", params=databases.BACKENDS)
def commuters(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Commuters]:
    with module_commuters(request, tmp_path_factory, FILES, max_favourites=5,
                          push_keys={"A": PUSH_KEY}) as c:
        yield c


_n = iter(range(10_000))


def _user(c: Commuters) -> str:
    return str(c.register(f"rider{next(_n)}@example.org")["access_token"])


def _departures(c: Commuters, path: str, token: str | None = None,
                **params: Any) -> dict[str, Any]:
    r = c.call("GET", path, token, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _trips(board: dict[str, Any]) -> list[str]:
    return [d["trip_id"] for d in board["departures"]]


# --- profile -----------------------------------------------------------------------------

def test_profile_starts_empty_and_patches_as_a_merge(commuters: Commuters) -> None:
    token = _user(commuters)
    empty = commuters.call("GET", "/v1/me/profile", token).json()
    assert set(empty) == {"language", "walk_speed", "max_walk_m", "wheelchair",
                          "rider_category", "preferred_modes", "avoided_modes",
                          "preferred_operators", "avoided_operators", "min_transfer_s"}
    assert all(v is None for v in empty.values())
    r = commuters.call("PATCH", "/v1/me/profile", token, json={
        "language": "nl-BE", "walk_speed": 0.9, "avoided_modes": ["Tram", "tram"],
        "avoided_operators": ["B"], "min_transfer_s": 120, "rider_category": "senior"})
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "nl-be" and r.json()["avoided_modes"] == ["tram"]
    r = commuters.call("PATCH", "/v1/me/profile", token, json={"walk_speed": None,
                                                               "wheelchair": True})
    got = r.json()
    assert got["walk_speed"] is None and got["wheelchair"] is True
    assert got["min_transfer_s"] == 120 and got["avoided_operators"] == ["B"]
    assert commuters.call("GET", "/v1/me/profile", token).json() == got


@pytest.mark.parametrize(("patch", "field"), [
    ({"walk_speed": 0.1}, "walk_speed"), ({"walk_speed": "fast"}, "walk_speed"),
    ({"max_walk_m": 99999}, "max_walk_m"), ({"min_transfer_s": -1}, "min_transfer_s"),
    ({"min_transfer_s": 1.5}, "min_transfer_s"), ({"wheelchair": "yes"}, "wheelchair"),
    ({"language": "english please"}, "language"), ({"language": "x" * 100}, "language"),
    ({"avoided_modes": ["hovercraft"]}, "avoided_modes"),
    ({"avoided_modes": "tram"}, "avoided_modes"),
    ({"avoided_modes": ["bus"] * 21}, "avoided_modes"),
    ({"avoided_operators": ["ZZ"]}, "avoided_operators"),
    ({"avoided_operators": ["<script>"]}, "avoided_operators"),
    ({"preferred_modes": ["bus"], "avoided_modes": ["bus"]}, "avoided_modes"),
    ({"rider_category": "a b"}, "rider_category"), ({"colour": "red"}, "colour"),
])
def test_profile_refuses_bad_values_naming_the_field(commuters: Commuters,
                                                     patch: dict[str, Any], field: str) -> None:
    token = _user(commuters)
    r = commuters.call("PATCH", "/v1/me/profile", token, json=patch)
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == field
    assert commuters.call("GET", "/v1/me/profile", token).json()["walk_speed"] is None


def test_profile_needs_a_token_and_a_json_object(commuters: Commuters) -> None:
    assert commuters.client.get("/v1/me/profile").status_code == 401
    token = _user(commuters)
    for body in ([], "x", 5):
        assert commuters.call("PATCH", "/v1/me/profile", token, json=body).status_code == 422
    big = commuters.call("PATCH", "/v1/me/profile", token, content=b"{" + b" " * 70000 + b"}",
                         headers={"Content-Type": "application/json"})
    assert big.status_code == 413


# --- the profile applied to the read endpoints ------------------------------------------

def test_departures_apply_avoided_modes_and_operators_unless_overridden(
        commuters: Commuters) -> None:
    path = "/v1/stops/A:S1/departures"
    anonymous = _departures(commuters, path)
    assert _trips(anonymous) == ["A:T1", "A:T2", "A:T3"]
    assert anonymous["applied_profile"] is None
    token = _user(commuters)
    plain = _departures(commuters, path, token)
    assert _trips(plain) == ["A:T1", "A:T2", "A:T3"] and plain["applied_profile"] == {}
    commuters.call("PATCH", "/v1/me/profile", token,
                   json={"avoided_modes": ["tram"], "language": "fr"})
    r = commuters.call("GET", path, token)
    assert _trips(r.json()) == ["A:T1", "A:T3"]
    assert r.json()["applied_profile"] == {"avoided_modes": ["tram"], "language": "fr"}
    assert r.headers["cache-control"].startswith("private")
    assert "Authorization" in r.headers["vary"]
    # the query overrides: an empty exclusion shows everything, lang replaces the language
    over = _departures(commuters, path, token, exclude_modes="", lang="en")
    assert _trips(over) == ["A:T1", "A:T2", "A:T3"] and over["applied_profile"] == {}
    bus_only = _departures(commuters, path, token, exclude_modes="bus")
    assert _trips(bus_only) == ["A:T2"]
    # avoided operators: the station of A:S1 (shared with B:S1) loses B's departures
    commuters.call("PATCH", "/v1/me/profile", token,
                   json={"avoided_modes": None, "avoided_operators": ["B"]})
    st = _departures(commuters, "/v1/stations/A:S1/departures", token)
    ops = {d["operator"] for d in st["departures"]}
    everyone = _departures(commuters, "/v1/stations/A:S1/departures")
    assert {d["operator"] for d in everyone["departures"]} == {"A", "B"}
    assert ops == {"A"} and st["applied_profile"] == {"avoided_operators": ["B"],
                                                      "language": "fr"}


def test_departures_refuse_unknown_exclusions_and_bad_tokens(commuters: Commuters) -> None:
    r = commuters.client.get("/v1/stops/A:S1/departures", params={"exclude_modes": "zeppelin"})
    assert r.status_code == 422 and r.json()["parameter"] == "exclude_modes"
    r = commuters.client.get("/v1/stops/A:S1/departures",
                             headers={"Authorization": "Bearer ua_" + "z" * 43})
    assert r.status_code == 401  # a bad token never silently drops the profile
    assert "WWW-Authenticate" in r.headers
    # another kind of bearer token (an operator's key, for previews) is not a commuter's
    r = commuters.client.get("/v1/stops/A:S1/departures",
                             headers={"Authorization": "Bearer tk_0123456789ab_secret"})
    assert r.status_code == 200 and r.json()["applied_profile"] is None


def test_journeys_apply_the_profile_and_the_query_overrides(commuters: Commuters) -> None:
    token = _user(commuters)
    commuters.call("PATCH", "/v1/me/profile", token, json={
        "walk_speed": 0.8, "max_walk_m": 400, "min_transfer_s": 60, "avoided_modes": ["tram"]})
    q = {"from": "A:S1", "to": "A:S2", "depart_at": "2026-06-01T08:00:00+02:00"}
    anon = _departures(commuters, "/v1/journeys", None, **q)
    assert anon["applied_profile"] is None
    first_anon = anon["journeys"][0]["legs"]
    transit_anon = [leg for leg in first_anon if leg.get("mode") != "walk"]
    assert transit_anon[0]["trip_id"] == "A:T1"
    mine = _departures(commuters, "/v1/journeys", token, **q)
    assert mine["applied_profile"] == {"walk_speed": 0.8, "max_walk_m": 400.0,
                                       "min_transfer_s": 60, "avoided_modes": ["tram"]}
    trips = {leg.get("trip_id") for j in mine["journeys"] for leg in j["legs"]}
    assert "A:T2" not in trips  # the tram is avoided
    over = _departures(commuters, "/v1/journeys", token, walk_speed=1.5, exclude_modes="",
                       **{**q, "depart_at": "2026-06-01T08:04:00+02:00"})
    assert over["applied_profile"] == {"max_walk_m": 400.0, "min_transfer_s": 60}
    trips = [leg.get("trip_id") for leg in over["journeys"][0]["legs"]
             if leg.get("trip_id")]
    assert trips == ["A:T2"]  # the tram, allowed again by the query


def test_journeys_ranked_toward_preferred_modes_and_operators(commuters: Commuters) -> None:
    """S1 to S2 leaving 07:58-08:08: the bus T1 (08:00, arrives 08:10) and the tram T2
    (08:05, arrives 08:12). A ride on neither a preferred mode nor operator counts 5
    minutes more: preferring the tram puts it first (08:12 < 08:10 + 5 min)."""
    q = {"from": "A:S1", "to": "A:S2", "depart_at": "2026-06-01T07:58:00+02:00",
         "window": 10}

    def order(token: str | None, **extra: object) -> tuple[list[str], Any]:
        body = _departures(commuters, "/v1/journeys", token, **{**q, **extra})
        return [next(leg["trip_id"] for leg in j["legs"] if leg.get("trip_id"))
                for j in body["journeys"]], body["applied_profile"]

    assert order(None) == (["A:T1", "A:T2"], None)
    token = _user(commuters)
    assert order(token) == (["A:T1", "A:T2"], {})
    commuters.call("PATCH", "/v1/me/profile", token, json={"preferred_modes": ["tram"]})
    assert order(token) == (["A:T2", "A:T1"], {"preferred_modes": ["tram"]})
    # the query restricting the modes itself: no preference applied
    assert order(token, modes="bus,tram") == (["A:T1", "A:T2"], {})
    commuters.call("PATCH", "/v1/me/profile", token, json={"preferred_modes": ["bus"]})
    assert order(token) == (["A:T1", "A:T2"], {"preferred_modes": ["bus"]})
    # an operator preferred: both rides are A's, so the earliest arrival leads
    commuters.call("PATCH", "/v1/me/profile", token, json={
        "preferred_modes": None, "preferred_operators": ["A"]})
    assert order(token) == (["A:T1", "A:T2"], {"preferred_operators": ["A"]})
    # preferred and avoided together: the tram preferred, operator B avoided
    commuters.call("PATCH", "/v1/me/profile", token, json={
        "preferred_modes": ["tram"], "preferred_operators": None, "avoided_operators": ["B"]})
    assert order(token) == (["A:T2", "A:T1"], {"preferred_modes": ["tram"],
                                               "avoided_operators": ["B"]})


def _alert_feed(ts: int) -> pb.FeedMessage:
    e = pb.FeedEntity(id="alert-1")
    e.alert.informed_entity.add().route_id = "R1"
    e.alert.header_text.translation.add(text="Line 1 diverted", language="en")
    e.alert.header_text.translation.add(text="Ligne 1 déviée", language="fr")
    e.alert.effect = pb.Alert.DETOUR
    delayed = trip_update("tu-1", "T1", start_date="20260601",
                          updates=[stu(1, "S1", dep=event(delay=240))])
    return feed(e, delayed, ts=ts)


def _push_live(c: Commuters) -> None:
    ts = int(datetime.fromisoformat(NOW).timestamp())
    r = c.client.post("/v1/operators/A/realtime", content=_alert_feed(ts).SerializeToString(),
                      headers={"Authorization": f"Bearer {PUSH_KEY}",
                               "Content-Type": "application/x-protobuf"})
    assert r.status_code == 202, r.text


def test_alerts_apply_language_and_avoided_operators(commuters: Commuters) -> None:
    _push_live(commuters)
    anon = _departures(commuters, "/v1/alerts")
    assert [a["id"] for a in anon["alerts"]] == ["A:alert-1"]
    assert anon["applied_profile"] is None
    token = _user(commuters)
    commuters.call("PATCH", "/v1/me/profile", token, json={"language": "fr"})
    fr = _departures(commuters, "/v1/alerts", token)
    assert fr["alerts"][0]["text"]["header"] == "Ligne 1 déviée"
    assert fr["applied_profile"] == {"language": "fr"}
    commuters.call("PATCH", "/v1/me/profile", token, json={"avoided_operators": ["A"]})
    none = _departures(commuters, "/v1/alerts", token)
    assert none["alerts"] == []
    assert none["applied_profile"] == {"language": "fr", "avoided_operators": ["A"]}
    asked = _departures(commuters, "/v1/alerts", token, operator="A", lang="en")
    assert asked["alerts"][0]["text"]["header"] == "Line 1 diverted"


# --- favourites --------------------------------------------------------------------------

def test_favourites_crud(commuters: Commuters) -> None:
    token = _user(commuters)
    made = []
    for body in ({"kind": "home", "name": "Home", "lat": 50.001, "lon": 4.0005},
                 {"kind": "work", "name": "Office", "station_id": "A:S3"},
                 {"kind": "stop", "name": "My stop", "stop_id": "A:S1"},
                 {"kind": "route", "name": "The tram", "route_id": "A:R2"}):
        r = commuters.call("POST", "/v1/me/favourites", token, json=body)
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["id"].startswith("fav_") and out["kind"] == body["kind"]
        assert {k: out[k] for k in body} == body
        made.append(out)
    listed = commuters.call("GET", "/v1/me/favourites", token).json()
    assert [f["id"] for f in listed["favourites"]] == [f["id"] for f in made]
    assert listed["limit"] == 5
    fav = made[2]["id"]
    r = commuters.call("PATCH", f"/v1/me/favourites/{fav}", token,
                       json={"name": "Renamed", "stop_id": "A:S2"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    assert r.json()["stop_id"] == "A:S2"
    r = commuters.call("PATCH", f"/v1/me/favourites/{fav}", token,
                       json={"kind": "place", "lat": 50.0, "lon": 4.0})
    assert r.json()["kind"] == "place" and r.json()["stop_id"] is None
    assert commuters.call("GET", f"/v1/me/favourites/{fav}", token).json()["lat"] == 50.0
    assert commuters.call("DELETE", f"/v1/me/favourites/{fav}", token).status_code == 204
    assert commuters.call("GET", f"/v1/me/favourites/{fav}", token).status_code == 404
    assert commuters.call("DELETE", f"/v1/me/favourites/{fav}", token).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "stop", "name": "x"}, "stop_id"),
    ({"kind": "stop", "name": "x", "stop_id": "A:NOPE"}, "stop_id"),
    ({"kind": "stop", "name": "x", "stop_id": "A:S1", "lat": 50.0}, "lat"),
    ({"kind": "station", "name": "x", "station_id": "' OR 1=1 --"}, "station_id"),
    ({"kind": "route", "name": "x", "route_id": "A:R9"}, "route_id"),
    ({"kind": "route", "name": "x", "route_id": "A:R1,A:R2"}, "route_id"),
    ({"kind": "place", "name": "x", "lat": 50.0}, "lon"),
    ({"kind": "place", "name": "x", "lat": 91.0, "lon": 4.0}, "lat"),
    ({"kind": "place", "name": "x", "lat": "50", "lon": 4.0}, "lat"),
    ({"kind": "home", "name": "x", "stop_id": "A:S1", "station_id": "A:S1"}, "station_id"),
    ({"kind": "home", "name": "x"}, "lat"),
    ({"kind": "castle", "name": "x", "lat": 1.0, "lon": 1.0}, "kind"),
    ({"kind": "stop", "name": "", "stop_id": "A:S1"}, "name"),
    ({"kind": "stop", "name": "a\x00b", "stop_id": "A:S1"}, "name"),
    ({"kind": "stop", "name": "x" * 101, "stop_id": "A:S1"}, "name"),
    ({"kind": "stop", "name": "x", "stop_id": "A:" + "S" * 300}, "stop_id"),
    ({"kind": "stop", "name": "x", "stop_id": "A:S1", "owner": "someone"}, "owner"),
])
def test_favourites_refuse_bad_input_naming_the_field(commuters: Commuters,
                                                      body: dict[str, Any], field: str) -> None:
    token = _user(commuters)
    r = commuters.call("POST", "/v1/me/favourites", token, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["parameter"] == field, r.json()
    assert commuters.call("GET", "/v1/me/favourites", token).json()["favourites"] == []


def test_favourites_limits_and_single_home(commuters: Commuters) -> None:
    token = _user(commuters)
    home = {"kind": "home", "name": "Home", "stop_id": "A:S1"}
    assert commuters.call("POST", "/v1/me/favourites", token, json=home).status_code == 201
    r = commuters.call("POST", "/v1/me/favourites", token, json=home)
    assert r.status_code == 409 and "home" in r.json()["detail"]
    for i in range(4):
        r = commuters.call("POST", "/v1/me/favourites", token,
                           json={"kind": "stop", "name": f"S{i}", "stop_id": "A:S2"})
        assert r.status_code == 201
    r = commuters.call("POST", "/v1/me/favourites", token,
                       json={"kind": "stop", "name": "one too many", "stop_id": "A:S2"})
    assert r.status_code == 409 and "at most 5 favourites" in r.json()["detail"]


def test_another_users_favourite_is_not_found(commuters: Commuters) -> None:
    alice, mallory = _user(commuters), _user(commuters)
    fav = commuters.call("POST", "/v1/me/favourites", alice,
                         json={"kind": "stop", "name": "A's", "stop_id": "A:S1"}).json()["id"]
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"name": "mine now"}}),
                           ("DELETE", {})):
        r = commuters.call(method, f"/v1/me/favourites/{fav}", mallory, **kwargs)
        assert r.status_code == 404, (method, r.text)
        assert r.json()["detail"] == commuters.call(
            method, "/v1/me/favourites/fav_doesnotexist000000000", mallory,
            **kwargs).json()["detail"].replace("fav_doesnotexist000000000", fav)
    for ident in ("../../etc/passwd", "x" * 100, "fav_' OR '1'='1", "%00"):
        assert commuters.call("GET", f"/v1/me/favourites/{ident}", mallory).status_code in (
            404, 422)
    assert commuters.call("GET", f"/v1/me/favourites/{fav}", alice).json()["name"] == "A's"
    assert commuters.call("GET", "/v1/me/favourites", mallory).json()["favourites"] == []


# --- the board ---------------------------------------------------------------------------

def test_board_lists_favourite_stops_with_live_times_and_alerts(commuters: Commuters) -> None:
    _push_live(commuters)
    token = _user(commuters)
    for body in ({"kind": "stop", "name": "Stop one", "stop_id": "A:S1"},
                 {"kind": "route", "name": "Bus", "route_id": "A:R1"},
                 {"kind": "work", "name": "Work", "stop_id": "A:S3"},
                 {"kind": "place", "name": "Park", "lat": 50.0, "lon": 4.0}):
        assert commuters.call("POST", "/v1/me/favourites", token, json=body).status_code == 201
    commuters.call("PATCH", "/v1/me/profile", token, json={"avoided_modes": ["tram"]})
    r = commuters.call("GET", "/v1/me/board", token, params={"limit": 2})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"].startswith("private")
    board = r.json()
    assert board["applied_profile"] == {"avoided_modes": ["tram"]}
    assert board["realtime"]["available"] is True
    assert [(s["name"], s["kind"], s["stop_id"]) for s in board["stops"]] == [
        ("Stop one", "stop", "A:S1"), ("Work", "work", "A:S3")]
    first = board["stops"][0]["departures"]
    assert [d["trip_id"] for d in first] == ["A:T1", "A:T3"]  # the tram is avoided
    assert first[0]["scheduled_departure"] == "2026-06-01T08:00:00+02:00"
    assert first[0]["realtime_departure"] == "2026-06-01T08:04:00+02:00"
    assert first[0]["delay_s"] == 240 and first[0]["status"] == "delayed"
    assert [a["id"] for a in first[0]["alerts"]] == ["A:alert-1"]
    assert first[1]["realtime_departure"] is None
    work = board["stops"][1]
    assert work["departures"] == []  # S3 is the end of the line: nothing leaves
    assert work["reason"] is not None


def test_board_of_a_user_without_favourites_and_without_token(commuters: Commuters) -> None:
    token = _user(commuters)
    board = commuters.call("GET", "/v1/me/board", token).json()
    assert board["stops"] == [] and board["applied_profile"] == {}
    assert commuters.client.get("/v1/me/board").status_code == 401
    r = commuters.call("GET", "/v1/me/board", token, params={"limit": 1000})
    assert r.status_code == 422 and r.json()["parameter"] == "limit"


# --- export and erase ---------------------------------------------------------------------

def test_export_has_all_personal_data_and_no_secrets(commuters: Commuters) -> None:
    out = commuters.register("exported@example.org")
    token = out["access_token"]
    commuters.call("PATCH", "/v1/me/profile", token, json={"walk_speed": 1.0})
    commuters.call("POST", "/v1/me/favourites", token,
                   json={"kind": "home", "name": "Home", "lat": 50.5, "lon": 4.5})
    commuters.sign_in("exported@example.org", "Wrong password 9")
    r = commuters.call("GET", "/v1/me/export", token)
    assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
    data = r.json()
    assert data["account"]["email"] == "exported@example.org"
    assert data["account"]["has_password"] is True
    assert data["profile"] == {"walk_speed": 1.0}
    assert [(f["name"], f["data"]) for f in data["favourites"]] == [
        ("Home", {"lat": 50.5, "lon": 4.5})]
    assert len(data["user_tokens"]) == 2 and len(data["sign_in_failures"]) == 1
    text = r.text
    assert "token_hash" not in text and "password_hash" not in text
    assert token not in text and "$argon2" not in text


def test_erase_deletes_everything_and_says_what_remains(commuters: Commuters) -> None:
    out = commuters.register("erased@example.org")
    token, uid = out["access_token"], out["user_id"]
    commuters.call("POST", "/v1/me/favourites", token,
                   json={"kind": "stop", "name": "S", "stop_id": "A:S1"})
    commuters.sign_in("erased@example.org")
    other = _user(commuters)
    r = commuters.call("DELETE", "/v1/me", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["erased"]["account"] == 1 and body["erased"]["favourites"] == 1
    assert body["erased"]["user_tokens"] == 4
    assert [x["what"] for x in body["remains"]] == [
        "failed sign-in records of the client IP addresses used"]
    with commuters.db.session() as s:
        assert s.get(UserRow, uid) is None
        for table in (FavouriteRow, UserTokenRow):
            assert s.scalar(select(func.count()).select_from(table).where(
                table.user_id == uid)) == 0
    assert commuters.call("GET", "/v1/me", token).status_code == 401
    assert commuters.sign_in("erased@example.org").status_code == 400
    assert commuters.call("GET", "/v1/me", other).status_code == 200  # others untouched
    # the email can register again, as a new account
    again = commuters.register("erased@example.org", PASSWORD)
    assert again["user_id"] != uid


def test_anonymous_data_survives_the_upgrade(commuters: Commuters) -> None:
    anon = commuters.anonymous()
    commuters.call("PATCH", "/v1/me/profile", anon["access_token"], json={"wheelchair": True})
    commuters.call("POST", "/v1/me/favourites", anon["access_token"],
                   json={"kind": "stop", "name": "Mine", "stop_id": "A:S1"})
    up = commuters.register(f"upgraded{next(_n)}@example.org", token=anon["access_token"])
    assert commuters.call("GET", "/v1/me/profile", up["access_token"]).json()["wheelchair"]
    favs = commuters.call("GET", "/v1/me/favourites", up["access_token"]).json()["favourites"]
    assert [f["name"] for f in favs] == ["Mine"]


def test_queries_with_coordinates_store_no_location(commuters: Commuters) -> None:
    """Locations are never stored unless saved as a place: a signed-in rider's journeys and
    departures near a point leave the database as it was."""
    token = _user(commuters)

    def snapshot() -> dict[str, Any]:
        data = commuters.call("GET", "/v1/me/export", token).json()
        with commuters.db.session() as s:
            data["all_rows"] = {t: s.scalar(select(func.count()).select_from(m)) for t, m in (
                ("users", UserRow), ("tokens", UserTokenRow), ("favourites", FavouriteRow))}
        return data

    before = snapshot()
    _departures(commuters, "/v1/departures", token, lat=50.0001, lon=4.0001)
    _departures(commuters, "/v1/journeys", token, **{"from": "50.0001,4.0001", "to": "A:S3"})
    after = snapshot()
    assert after == before
    assert "50.0001" not in str(after)
