"""Feed versions over HTTP, on SQLite and PostgreSQL: upload, report, diff, preview,
publish, rollback, audit, scope."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_server import serve_file
from tests.publishing_support import Api, api_for, feed_zip, trips


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with api_for(db_url, tmp_path) as a:
        yield a


def test_an_operators_journey_upload_report_preview_publish_rollback(api: Api) -> None:
    # nothing is served before the first publish
    assert api.departures().status_code == 503
    r = api.upload("A", feed_zip(trips(2)))
    assert r.status_code == 202
    v1 = r.json()
    assert v1["id"].startswith("fv_") and len(v1["id"]) > 20
    assert r.headers["location"] == f"/v1/operators/A/feeds/{v1['id']}"
    assert (v1["status"], v1["operator"], v1["size"]) == ("validating", "A", len(
        feed_zip(trips(2))))
    v1 = api.wait("A", v1["id"])
    assert v1["status"] == "staged"
    assert v1["counts"]["trips"] == 2 and v1["notices"] == {"error": 0, "warning": 0,
                                                            "info": 0}
    assert v1["diff"]["trips"]["added"] == ["A:T0", "A:T1"]
    assert v1["diff"]["first_service_date"] == {"published": None, "new": "2026-01-01"}
    assert api.departures().status_code == 503  # staged is not served
    r = api.publish("A", v1["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    assert api.trip_ids() == ["A:T0", "A:T1"]

    v2 = api.staged("A", feed_zip(trips(3)))
    assert v2["diff"]["trips"]["counts"] == {"added": 1, "removed": 0, "changed": 0,
                                             "unchanged": 2}
    # the preview answers from the network with v2 in place, for A's keys only
    r = api.departures(headers=api.auth("A"), preview=v2["id"])
    assert r.status_code == 200, r.text
    assert [d["trip_id"] for d in r.json()["departures"]] == ["A:T0", "A:T1", "A:T2"]
    assert r.headers["cache-control"] == "private, no-store"
    assert "etag" not in r.headers
    viewer = api.departures(headers=api.auth("A-viewer"), preview=v2["id"])
    assert viewer.status_code == 200
    assert api.departures(preview=v2["id"]).status_code == 401
    assert api.departures(headers=api.auth("B"), preview=v2["id"]).status_code == 404
    assert api.departures(headers=api.auth("A"), preview="fv_nope").status_code == 404
    trip = api.client.get("/v1/trips/A:T2", params={"date": "2026-03-02",
                                                    "preview": v2["id"]},
                          headers=api.auth("A"))
    assert trip.status_code == 200, trip.text
    assert api.client.get("/v1/trips/A:T2", params={"date": "2026-03-02"}).status_code == 404
    journey = api.client.get("/v1/journeys", params={
        "from": "A:S1", "to": "A:S3", "depart_at": "2026-03-02T08:01:30+01:00",
        "preview": v2["id"]}, headers=api.auth("A"))
    assert journey.status_code == 200, journey.text
    assert journey.json()["journeys"][0]["legs"][0]["trip_id"] == "A:T2"
    assert api.trip_ids() == ["A:T0", "A:T1"]  # still v1 for everyone else

    assert api.publish("A", v2["id"]).status_code == 200
    assert api.trip_ids() == ["A:T0", "A:T1", "A:T2"]
    listed = api.client.get("/v1/operators/A/feeds", headers=api.auth("A-viewer")).json()
    assert [(v["id"], v["status"]) for v in listed["versions"]] == [
        (v2["id"], "published"), (v1["id"], "superseded")]
    assert listed["versions"][0]["uploaded_by"] == "tk_" + api.keys["A"].split("_")[1]

    r = api.client.post("/v1/operators/A/feeds/rollback", headers=api.auth("A"))
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["status"]) == (v1["id"], "published")
    assert api.trip_ids() == ["A:T0", "A:T1"]
    listed = api.client.get("/v1/operators/A/feeds", headers=api.auth("A")).json()
    assert [v["status"] for v in listed["versions"]] == ["superseded", "published"]
    # no earlier version than v1: nothing to roll back to
    r = api.client.post("/v1/operators/A/feeds/rollback", headers=api.auth("A"))
    assert r.status_code == 409 and "no earlier published version" in r.json()["detail"]
    # the upload and every switch are in the audit log, from which version to which
    audit = api.client.get("/v1/operators/A/audit", headers=api.auth("A")).json()
    feed_entries = [(e["action"], e["target"], e["details"].get("from"))
                    for e in audit["entries"] if e["action"].startswith("feed.")]
    assert feed_entries == [
        ("feed.rollback", v1["id"], v2["id"]), ("feed.publish", v2["id"], v1["id"]),
        ("feed.upload", v2["id"], None), ("feed.publish", v1["id"], None),
        ("feed.upload", v1["id"], None)]


def test_a_rejected_feed_changes_nothing_and_the_report_says_why(api: Api) -> None:
    assert api.publish("A", api.staged("A", feed_zip())["id"]).status_code == 200
    bad = api.staged("A", feed_zip({"trips.txt": "route_id,service_id,trip_id\n"
                                                 "R9,DAILY,T1\nR1,NOPE,T1\n"}))
    assert bad["status"] == "rejected"
    codes = {(n["code"], n["file"], n["line"], n["field"], n["value"])
             for n in bad["report"]["notices"]}
    assert codes == {("duplicate_key", "trips.txt", 3, "trip_id", "T1"),
                     ("foreign_key_violation", "trips.txt", 2, "route_id", "R9"),
                     ("foreign_key_violation", "trips.txt", 3, "service_id", "NOPE")}
    assert bad["report"]["counts"]["error"] == 3 and bad["diff"] is None
    r = api.publish("A", bad["id"])
    assert r.status_code == 409 and "rejected" in r.json()["detail"]
    assert api.trip_ids() == ["A:T1"]


def test_blocking_notices_stop_a_publish_unless_forced(api: Api) -> None:
    assert api.publish("A", api.staged("A", feed_zip(trips(4)))["id"]).status_code == 200
    late = api.staged("A", feed_zip({
        **trips(1), "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,"
        "saturday,sunday,start_date,end_date\nDAILY,1,1,1,1,1,1,1,20260401,20261231\n"}))
    assert late["status"] == "staged" and late["blocking"] == 2
    assert sorted(n["code"] for n in late["report"]["notices"] if n["blocking"]) == [
        "no_service_next_7_days", "trips_removed_over_half"]
    r = api.publish("A", late["id"])
    assert r.status_code == 409
    assert "blocking notices (no_service_next_7_days, trips_removed_over_half)" in \
        r.json()["detail"]
    assert api.trip_ids() == ["A:T0", "A:T1", "A:T2", "A:T3"]
    r = api.publish("A", late["id"], force=True)
    assert r.status_code == 200
    r = api.departures()  # served: today is now before the service period
    assert r.status_code == 422
    assert "service period 2026-04-01 to 2026-12-31" in r.json()["detail"]
    audit = api.client.get("/v1/operators/A/audit", headers=api.auth("A")).json()
    assert audit["entries"][0]["details"]["forced"] is True


def test_a_feed_in_one_folder_is_staged_with_a_warning(api: Api) -> None:
    v = api.staged("A", feed_zip(folder="gtfs/"))
    assert v["status"] == "staged"
    assert v["notices"] == {"error": 0, "warning": 1, "info": 0}
    [n] = v["report"]["notices"]
    assert (n["code"], n["severity"]) == ("invalid_input_files_in_subfolder", "warning")


def test_text_not_in_utf8_is_rejected_naming_file_and_line(api: Api) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in feed_zip_files().items():
            zf.writestr(name, text.encode("cp1252") if name == "stops.txt" else text.encode())
    v = api.staged("A", buf.getvalue())
    assert v["status"] == "rejected"
    [n] = v["report"]["notices"]
    assert (n["code"], n["file"], n["line"], n["value"]) == (
        "invalid_encoding", "stops.txt", 3, "e9")


def feed_zip_files() -> dict[str, str]:
    from tests.feeds import BASE

    return {**BASE, "stops.txt": BASE["stops.txt"].replace("Second", "Deuxi\u00e9me")}


def test_a_feed_fetched_from_a_url_with_a_conditional_get(api: Api) -> None:
    body = feed_zip(trips(2))
    with serve_file("/gtfs.zip", body) as served:
        r = api.client.post("/v1/operators/A/feeds", headers=api.auth("A"),
                            json={"url": served.url})
        assert r.status_code == 202, r.text
        v = api.wait("A", r.json()["id"])
        assert (v["status"], v["source_url"], v["size"]) == ("staged", served.url, len(body))
        again = api.client.post("/v1/operators/A/feeds", headers=api.auth("A"),
                                json={"url": served.url})
        assert again.status_code == 200 and again.json()["id"] == v["id"]  # 304: unchanged
        assert served.seen[-1] == ("/gtfs.zip", '"v1"')
        missing = api.client.post("/v1/operators/A/feeds", headers=api.auth("A"),
                                  json={"url": served.url.replace("gtfs", "nope")})
        assert missing.status_code == 422 and "HTTP 404" in missing.json()["detail"]
    for bad in ({"url": "ftp://x"}, {"link": "https://x"}, {}):
        r = api.client.post("/v1/operators/A/feeds", headers=api.auth("A"), json=bad)
        assert r.status_code == 422, bad
    r = api.client.post("/v1/operators/A/feeds", content=b"{not json",
                        headers={**api.auth("A"), "Content-Type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["detail"]


def test_scope_every_feed_endpoint(api: Api) -> None:
    v = api.staged("A", feed_zip())
    paths = [("post", "/v1/operators/A/feeds"), ("get", "/v1/operators/A/feeds"),
             ("get", f"/v1/operators/A/feeds/{v['id']}"),
             ("post", f"/v1/operators/A/feeds/{v['id']}/publish"),
             ("post", "/v1/operators/A/feeds/rollback")]
    for method, path in paths:
        kwargs = {"files": {"file": ("f.zip", feed_zip())}} if path.endswith("feeds") \
            and method == "post" else {}
        assert getattr(api.client, method)(path, **kwargs).status_code == 401, path
        for who in ("B", "A-revoked", "A-realtime"):
            r = getattr(api.client, method)(path, headers=api.auth(who), **kwargs)
            assert r.status_code == (401 if who == "A-revoked" else 403), (path, who)
    # a viewer reads reports but does not publish
    assert api.client.get("/v1/operators/A/feeds", headers=api.auth("A-viewer")
                          ).status_code == 200
    assert api.upload("A", feed_zip(), who="A-viewer").status_code == 403
    # another operator's version under one's own operator is not found
    b = api.staged("B", feed_zip())
    assert api.client.get(f"/v1/operators/A/feeds/{b['id']}",
                          headers=api.auth("A")).status_code == 404
    assert api.publish("A", b["id"]).status_code == 404
    assert api.client.get("/v1/operators/A/feeds/" + "x" * 61,
                          headers=api.auth("A")).status_code == 422
    # the admin may act on any operator
    assert api.client.get("/v1/operators/B/feeds", headers=api.auth("admin")
                          ).status_code == 200
    assert api.client.get("/v1/operators/ZZ/feeds", headers=api.auth("admin")
                          ).status_code == 404


def test_two_operators_publishing_at_the_same_moment_both_land(api: Api) -> None:
    for op in ("A", "B"):
        assert api.publish(op, api.staged(op, feed_zip())["id"]).status_code == 200
    staged = {op: api.staged(op, feed_zip(trips(3)))["id"] for op in ("A", "B")}
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def go(op: str) -> None:
        barrier.wait()
        answers[op] = api.publish(op, staged[op]).status_code

    threads = [threading.Thread(target=go, args=(op,)) for op in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {"A": 200, "B": 200}
    assert api.trip_ids("A:S1") == ["A:T0", "A:T1", "A:T2"]
    assert api.trip_ids("B:S1") == ["B:T0", "B:T1", "B:T2"]


def test_a_preview_over_a_network_that_changed_is_built_by_a_job(api: Api) -> None:
    assert api.publish("A", api.staged("A", feed_zip())["id"]).status_code == 200
    a2 = api.staged("A", feed_zip(trips(2)))  # its preview is merged by the staging job
    assert api.trip_ids(headers=api.auth("A"), preview=a2["id"]) == ["A:T0", "A:T1"]
    assert api.publish("B", api.staged("B", feed_zip())["id"]).status_code == 200
    # the served network changed: no merge in the request, a job builds the preview
    r = api.departures(headers=api.auth("A"), preview=a2["id"])
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert "being built over the network served now" in r.json()["detail"]
    deadline = time.monotonic() + 60
    while (r := api.departures("B:S1", headers=api.auth("A"), preview=a2["id"])
           ).status_code == 503:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert [d["trip_id"] for d in r.json()["departures"]] == ["B:T1"]  # B is in it now
    assert api.trip_ids(headers=api.auth("A"), preview=a2["id"]) == ["A:T0", "A:T1"]
    assert api.trip_ids() == ["A:T1"]
