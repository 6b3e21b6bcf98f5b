"""The HTTP surface over the demo network: times outside the service period, CORS, HEAD,
security headers, the OpenAPI contract, offline docs, empty boards, echoed times."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_CATALOG, ROOT, client_for

NOW = "2026-11-26T08:00:00+01:00"  # a Thursday morning
PERIOD = "the timetable's service period 2025-01-01 to 2030-12-31 (a day either side is " \
         "accepted)"


@pytest.fixture(scope="module")
def client(demo_whole: Path) -> Iterator[TestClient]:
    with client_for(demo_whole, NOW) as c:
        yield c


def problem(r: object) -> tuple[int, str, str | None]:
    body = r.json()  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    return body["status"], body["detail"], body.get("parameter")


# -- times outside the service period ---------------------------------------------------------

@pytest.mark.parametrize("at", [
    "9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00", "2024-12-30T23:59:59+01:00", "2031-01-02T00:00:00+01:00"])
@pytest.mark.parametrize(("path", "params"), [
    ("/v1/stops/RR:CEN1/departures", {}), ("/v1/stations/RR:CEN/departures", {}),
    ("/v1/departures", {"lat": 50.45, "lon": 3.95})])
def test_departures_outside_the_service_period_are_422(client: TestClient, path: str,
                                                       params: dict, at: str) -> None:
    r = client.get(path, params={**params, "at": at})
    assert r.status_code == 422
    assert problem(r) == (422, f"at: {at!r} is outside {PERIOD}", "at")


@pytest.mark.parametrize("at", ["2024-12-31T00:00:00+01:00", "2031-01-01T23:59:59+01:00"])
def test_a_day_either_side_of_the_period_is_accepted(client: TestClient, at: str) -> None:
    r = client.get("/v1/stops/RR:CEN1/departures", params={"at": at})
    assert r.status_code == 200, r.text


def test_departures_near_nothing_outside_the_period_are_422(client: TestClient) -> None:
    r = client.get("/v1/departures", params={"lat": 10, "lon": 10,
                                             "at": "9999-12-31T23:59:59-12:00"})
    assert problem(r)[2] == "at"


@pytest.mark.parametrize(("day", "status"), [
    ("9999-12-31", 422), ("0001-01-01", 422), ("2024-12-30", 422), ("2031-01-02", 422),
    ("2031-01-01", 404), ("2024-12-31", 404), ("2026-11-26", 200)])
def test_trip_dates_outside_the_period_are_422(client: TestClient, day: str,
                                               status: int) -> None:
    r = client.get("/v1/trips/RR:A-IN-0800", params={"date": day})
    assert r.status_code == status
    if status == 422:
        assert problem(r) == (422, f"date: {day!r} is outside {PERIOD}", "date")
    elif status == 404:
        assert problem(r) == (404, f"trip 'RR:A-IN-0800' does not run on {day}", "date")


@pytest.mark.parametrize("param", ["depart_at", "arrive_by"])
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00",
                                  "2031-01-03T08:00"])
def test_journey_times_outside_the_period_are_422(client: TestClient, param: str,
                                                  when: str) -> None:
    r = client.get("/v1/journeys", params={"from": "RR:CEN", "to": "RR:AIR", param: when})
    assert r.status_code == 422
    assert problem(r) == (422, f"{param}: {when!r} is outside {PERIOD}", param)


# -- HEAD, security headers, CORS -------------------------------------------------------------

# One answering URL per GET route (a new route fails test_every_get_route_is_listed until
# it is listed here).
GET_URLS = {
    "/v1/operators": "/v1/operators",
    "/v1/stops": "/v1/stops?q=cent",
    "/v1/stops/{stop_id}": "/v1/stops/RR:CEN1",
    "/v1/stations/{station_id}": "/v1/stations/RR:CEN",
    "/v1/stops/{stop_id}/departures": "/v1/stops/RR:CEN1/departures",
    "/v1/stations/{station_id}/departures": "/v1/stations/RR:CEN/departures",
    "/v1/departures": "/v1/departures?lat=50.45&lon=3.95",
    "/v1/trips/{trip_id}": "/v1/trips/RR:A-IN-0800",
    "/v1/journeys": "/v1/journeys?from=RR:CEN&to=RR:AIR",
    "/v1/operators/{operator_id}/realtime": "/v1/operators/RR/realtime",
    "/v1/operators/{operator_id}/keys": "/v1/operators/RR/keys",  # 401 without a key
    "/v1/operators/{operator_id}/audit": "/v1/operators/RR/audit",
    "/v1/operators/{operator_id}/feeds": "/v1/operators/RR/feeds",
    "/v1/operators/{operator_id}/feeds/{version_id}": "/v1/operators/RR/feeds/fv_x",
    "/v1/operators/{operator_id}/kpis": "/v1/operators/RR/kpis",
    "/v1/vehicles": "/v1/vehicles?lat=50.45&lon=3.95",
    "/v1/alerts": "/v1/alerts",
    "/v1/gtfs-rt/{kind}": "/v1/gtfs-rt/trip-updates",
    "/v1/me": "/v1/me",  # the commuter's endpoints: 401 without a token
    "/v1/me/export": "/v1/me/export",
    "/v1/me/profile": "/v1/me/profile",
    "/v1/me/favourites": "/v1/me/favourites",
    "/v1/me/favourites/{favourite_id}": "/v1/me/favourites/fav_x",
    "/v1/me/board": "/v1/me/board",
    "/v1/me/commutes": "/v1/me/commutes",
    "/v1/me/commutes/{commute_id}": "/v1/me/commutes/cm_x",
    "/v1/me/commutes/{commute_id}/next": "/v1/me/commutes/cm_x/next",
    "/v1/me/alerts": "/v1/me/alerts",
    "/v1/me/events": "/v1/me/events",
    "/v1/me/webhooks": "/v1/me/webhooks",
    "/v1/me/push-subscriptions": "/v1/me/push-subscriptions",
    "/v1/me/push/vapid-key": "/v1/me/push/vapid-key",
    "/v1/me/tickets": "/v1/me/tickets",
    "/v1/me/tickets/{ticket_id}": "/v1/me/tickets/tkt_x",
    "/v1/me/tickets/{ticket_id}/qr.svg": "/v1/me/tickets/tkt_x/qr.svg",
    "/v1/me/tickets/{ticket_id}/qr.png": "/v1/me/tickets/tkt_x/qr.png",
    "/v1/orders/{order_id}": "/v1/orders/ord_x",  # the commuter's: 401 without a token
    "/v1/me/orders": "/v1/me/orders",
    "/v1/me/orders/{order_id}": "/v1/me/orders/ord_x",
    "/v1/operators/{operator_id}/sales": "/v1/operators/RR/sales",
    "/v1/tickets/revoked": "/v1/tickets/revoked?since=0",
    "/v1/fares/products": "/v1/fares/products",
    "/.well-known/ticket-keys": "/.well-known/ticket-keys",
    "/healthz": "/healthz",
    "/readyz": "/readyz",
    "/metrics": "/metrics",
    "/openapi.json": "/openapi.json",
    "/docs": "/docs",
    "/redoc": "/redoc",
}


def get_routes(client: TestClient) -> set[str]:
    """Paths of the app's GET routes, through the routers it includes."""
    found: set[str] = set()

    def walk(routes: list) -> None:
        for r in routes:
            if hasattr(r, "original_router"):  # a router included by FastAPI
                walk(r.original_router.routes)
            elif "GET" in (getattr(r, "methods", None) or ()):
                found.add(r.path)

    walk(client.app.routes)  # type: ignore[attr-defined]
    return found


def test_every_get_route_is_listed(client: TestClient) -> None:
    assert get_routes(client) == set(GET_URLS)


@pytest.mark.parametrize("url", sorted(GET_URLS.values()))
def test_head_answers_every_get_without_a_body(client: TestClient, url: str) -> None:
    got = client.get(url)
    head = client.head(url)
    assert (head.status_code, head.content) == (got.status_code, b""), url
    keyed = url.startswith(("/v1/operators/RR/", "/v1/me", "/v1/orders/")) \
        and not url.endswith("/realtime")
    assert got.status_code == (401 if keyed else 200)
    same = ("content-type", "etag", "cache-control", "content-length")
    for name in same[:-1] if url == "/metrics" else same:  # metrics count this very request
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_of_an_unknown_stop_is_404(client: TestClient) -> None:
    assert client.head("/v1/stops/XX:1").status_code == 404
    assert client.head("/v1/stops/XX:1").content == b""


@pytest.mark.parametrize("url", ["/v1/stops/RR:CEN1", "/v1/stops/XX:1", "/healthz",
                                 "/v1/stops?lat=91&lon=0"])
def test_security_headers_on_every_answer(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "access-control-allow-origin" not in r.headers  # CORS is off by default


def test_security_headers_on_a_rate_limited_answer(demo_whole: Path) -> None:
    with client_for(demo_whole, NOW, rate_limit_per_minute=60,
                    cors_origins=["https://app.example.org"]) as c:
        origin = {"Origin": "https://app.example.org"}
        codes = [c.get("/v1/operators", headers=origin) for _ in range(11)]
        assert [r.status_code for r in codes] == [200] * 10 + [429]
        assert codes[-1].headers["x-content-type-options"] == "nosniff"
        # the page can read why it was refused
        assert codes[-1].headers["access-control-allow-origin"] == "https://app.example.org"


def test_cors_for_configured_origins_only(demo_whole: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("TRANSIT_CORS_ORIGINS", "https://app.example.org, https://b.example/")
    with client_for(demo_whole, NOW) as c:
        assert c.app.state.settings.cors_origins == [  # type: ignore[attr-defined]
            "https://app.example.org", "https://b.example"]
        ok = c.get("/v1/stops/RR:CEN1", headers={"Origin": "https://b.example"})
        assert ok.headers["access-control-allow-origin"] == "https://b.example"
        assert "etag" in ok.headers["access-control-expose-headers"].lower()
        other = c.get("/v1/stops/RR:CEN1", headers={"Origin": "https://evil.example"})
        assert other.status_code == 200
        assert "access-control-allow-origin" not in other.headers
        pre = c.options("/v1/stops/RR:CEN1/departures", headers={
            "Origin": "https://app.example.org", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept-language"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "GET" in pre.headers["access-control-allow-methods"]
        denied = c.options("/v1/stops/RR:CEN1/departures", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers


# -- /docs and /redoc offline -----------------------------------------------------------------

@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_doc_pages_load_only_local_assets(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    html = re.sub(r"<!--.*?-->", "", r.text, flags=re.DOTALL)
    assert "://" not in html  # no CDN, no fonts from elsewhere
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    urls = re.findall(r"url: '([^']+)'", html) + re.findall(r'spec-url="([^"]+)"', html)
    assert refs and all(u.startswith("/docs-assets/") for u in refs), refs
    assert urls == ["/openapi.json"]
    for u in [*refs, *urls]:
        got = client.get(u)
        assert got.status_code == 200, u
        assert len(got.content) > 1000, u  # the real asset, not an error page
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for inline in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp  # the page's own script may run, nothing else


def test_swagger_ui_assets_are_the_packaged_ones(client: TestClient) -> None:
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in js.content
    assert client.get("/docs-assets/../transit/settings.py").status_code == 404


# -- reproducible installs --------------------------------------------------------------------

def test_the_test_client_and_the_app_import_without_deprecation_warnings() -> None:
    """Starlette deprecates its test client on httpx (the dev extra brings httpx2); the
    versions of constraints.txt import cleanly with warnings as errors."""
    code = "import fastapi.testclient, transit.app, transit.cli"
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_constraints_pin_every_installed_requirement() -> None:
    """constraints.txt pins (==) the project's requirements with the dev extra, and every
    package they pull in, as installed here."""
    spec = importlib.util.spec_from_file_location("freeze", ROOT / ".ci/freeze_constraints.py")
    assert spec is not None and spec.loader is not None
    freeze = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(freeze)
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[freeze.canonical(name)] = version
    needed = freeze.requirement_closure({"dev"})
    assert {"fastapi", "starlette", "httpx2", "pytest", "numpy"} <= needed
    assert sorted(needed - set(pins)) == []
    for name in needed:
        assert pins[name] == metadata.version(name), name


# -- the OpenAPI contract ---------------------------------------------------------------------

def operations(client: TestClient) -> dict[tuple[str, str], dict]:
    spec = client.get("/openapi.json").json()
    return {(m.upper(), p): op for p, ops in spec["paths"].items() for m, op in ops.items()}


def test_routes_declare_the_problems_they_can_answer(client: TestClient) -> None:
    ops = operations(client)
    assert len(ops) == 73
    for (method, path), op in ops.items():
        declared = {int(s) for s in op["responses"]}
        assert {422, 429} <= declared, (method, path)
        if "{" in path or path == "/v1/alerts":  # ids in the path, or in alert filters
            assert 404 in declared, (method, path)
        schemes = {name for requirement in op.get("security", []) for name in requirement}
        if schemes:  # a token or key may be sent: missing or invalid is 401
            assert 401 in declared, (method, path)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
        if "key" in schemes:  # an operator's key may also be of another operator: 403
            assert 403 in declared, (method, path)
        if "requestBody" in op:  # JSON that does not parse; over TRANSIT_MAX_JSON_BYTES
            assert {400, 413} <= declared, (method, path)
        for status in declared - {200, 201, 202, 204}:
            content = op["responses"][str(status)]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}
    push = ops[("POST", "/v1/operators/{operator_id}/realtime")]["responses"]
    assert {"400", "401", "403", "404", "413"} <= set(push)
    assert "WWW-Authenticate" in push["401"]["headers"]
    assert "Retry-After" in ops[("GET", "/v1/stops")]["responses"]["429"]["headers"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "HTTPValidationError" not in schema  # FastAPI's 422 shape is not what we send


def test_time_parameters_have_a_format(client: TestClient) -> None:
    ops = operations(client)
    formats = {}
    for (_, path), op in ops.items():
        for p in op.get("parameters", []):
            if p["name"] in ("at", "date", "depart_at", "arrive_by"):
                s = p["schema"]
                fmt = s.get("format") or next(x["format"] for x in s["anyOf"] if "format" in x)
                formats[(path, p["name"])] = fmt
    assert formats == {
        ("/v1/stops/{stop_id}/departures", "at"): "date-time",
        ("/v1/stations/{station_id}/departures", "at"): "date-time",
        ("/v1/departures", "at"): "date-time",
        ("/v1/trips/{trip_id}", "date"): "date",
        ("/v1/journeys", "depart_at"): "date-time",
        ("/v1/journeys", "arrive_by"): "date-time",
        ("/v1/alerts", "at"): "date-time",
    }


# -- a live server: what uvicorn adds, and schemathesis against the contract ------------------

@pytest.fixture(scope="module")
def live_url(demo_whole: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`transit serve` of the demo network on a free port, as a user starts it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0", "TRANSIT_REALTIME_POLL": "false",
           "TRANSIT_PUSH_KEYS": '{"RR": "rr-secret"}'}
    log = (workdir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "transit", "serve", "--data-dir", str(demo_whole), "--port",
         str(port), "--catalog", str(DEMO_CATALOG), "--clock", NOW],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((workdir / "serve.log").read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_the_server_does_not_name_itself(live_url: str) -> None:
    for method in ("GET", "HEAD"):
        r = httpx.request(method, f"{live_url}/v1/stops/RR:CEN1")
        assert r.status_code == 200
        assert "server" not in r.headers
        assert r.headers["x-content-type-options"] == "nosniff"
    assert httpx.head(f"{live_url}/v1/stops/RR:CEN1").content == b""


def test_schemathesis_finds_no_server_error_and_no_contract_violation(live_url: str) -> None:
    """Every operation without a key (all GETs; the push and the key management answer
    401), with generated valid and invalid inputs (15 examples per operation and mode,
    derandomized so that a run is repeatable): no 5xx, and every answer's status, content
    type, headers and body as declared."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    failures: list[str] = []
    tested = []
    for result in schema.get_all_operations():
        op = result.ok()
        tested.append(f"{op.method.upper()} {op.path}")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=live_url, checks=checks)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, or only a path id)
                assert mode == GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as exc:  # every operation's, then fail
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {exc}")
    assert len(tested) == 73
    assert not failures, "\n\n".join(failures)


# -- first run: empty boards say why, frequency trip ids, echoed times ------------------------

NIGHT = "2026-11-26T02:13:07.123456+00:00"  # 03:13:07 in Riverton, microseconds on the clock


@pytest.fixture(scope="module")
def night(demo_whole: Path) -> Iterator[TestClient]:
    with client_for(demo_whole, NIGHT) as c:
        yield c


def test_an_empty_board_at_night_says_when_the_next_departure_is(night: TestClient) -> None:
    b = night.get("/v1/stops/RR:CEN1/departures").json()
    assert b["departures"] == []
    assert (b["at"], b["next_departure"], b["reason"]) == (
        "2026-11-26T03:13:07+01:00", "2026-11-26T06:00:00+01:00",
        "no departure in the 120 minutes from 2026-11-26T03:13:07+01:00; the next is at "
        "2026-11-26T06:00:00+01:00")
    # the next one is the first of the day on the board itself
    first = night.get("/v1/stops/RR:CEN1/departures",
                      params={"at": b["next_departure"], "limit": 1}).json()
    assert first["departures"][0]["scheduled_departure"] == b["next_departure"]
    assert (first["reason"], first["next_departure"]) == (None, None)


def test_an_empty_board_after_the_last_service_day(night: TestClient) -> None:
    b = night.get("/v1/stations/RR:CEN/departures", params={"at": "2031-01-01T12:00"}).json()
    assert (b["departures"], b["next_departure"], b["reason"]) == ([], None, (
        "no departure in the 120 minutes from 2031-01-01T12:00:00+01:00 nor in the 7 days "
        "after"))


def test_an_empty_board_near_no_stop(night: TestClient) -> None:
    b = night.get("/v1/departures", params={"lat": 10, "lon": 10, "radius": 250}).json()
    assert (b["departures"], b["next_departure"], b["reason"]) == (
        [], None, "no stop within 250 m of 10.0,10.0")


def test_frequency_trip_ids_are_documented_and_explained(client: TestClient) -> None:
    run = client.get("/v1/trips/RB:10-E@08:00:00", params={"date": "2026-11-26"}).json()
    assert (run["id"], run["stops"][0]["scheduled_departure"]) == (
        "RB:10-E@08:00:00", "2026-11-26T08:00:00+01:00")
    r = client.get("/v1/trips/RB:10-E")
    assert problem(r) == (404, "unknown trip 'RB:10-E': it runs by frequency, each run is its "
                          "own trip RB:10-E@HH:MM:SS by its start time, e.g. "
                          "RB:10-E@07:00:00, RB:10-E@07:15:00, RB:10-E@07:30:00", None)
    assert r.json()["runs"][:2] == ["RB:10-E@07:00:00", "RB:10-E@07:15:00"]
    assert problem(client.get("/v1/trips/RB:10"))[1] == "unknown trip 'RB:10'"
    spec = client.get("/openapi.json").json()
    param = spec["paths"]["/v1/trips/{trip_id}"]["get"]["parameters"][0]
    assert param["name"] == "trip_id" and "RB:10-E@08:00:00" in param["description"]
    assert "@HH:MM:SS" in spec["components"]["schemas"]["Departure"]["properties"][
        "trip_id"]["description"]
    assert "RB:10-E@08:00:00" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(("params", "echo"), [
    ({}, ("depart_at", "2026-11-26T03:13:07+01:00")),  # the clock's now, whole seconds
    ({"depart_at": "2026-11-26T07:00:00.5Z"}, ("depart_at", "2026-11-26T08:00:00+01:00")),
    ({"depart_at": "2026-11-26T08:00"}, ("depart_at", "2026-11-26T08:00:00+01:00")),
    ({"arrive_by": "2026-11-26T09:00:00+00:00"}, ("arrive_by", "2026-11-26T10:00:00+01:00")),
])
def test_journey_times_are_echoed_in_local_time_whole_seconds(night: TestClient, params: dict,
                                                              echo: tuple[str, str]) -> None:
    r = night.get("/v1/journeys", params={"from": "RR:CEN", "to": "RR:AIR", **params})
    assert r.status_code == 200, r.text
    search = r.json()["search"]
    assert (echo[0], search[echo[0]]) == echo
