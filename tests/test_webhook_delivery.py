"""Webhook delivery from the outbox, on SQLite and PostgreSQL, to a real HTTP receiver on
loopback (TRANSIT_WEBHOOK_ALLOW_PRIVATE's setting is passed as allow_private=True):
Standard Webhooks signatures checked with the `standardwebhooks` package, retries with the
same webhook-id, a receiver that hangs, one that answers 410, a day of failures, and a
deliverer killed with SIGKILL in the middle of a batch (a real subprocess)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from py_vapid import Vapid02
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tests import databases
from tests.conftest import ROOT
from transit.db import migrate
from transit.db.engine import Database
from transit.db.models_alerts import AlertRow, CommuteRow, OutboxRow, WebhookRow
from transit.db.models_users import UserRow
from transit.delivery import outbox, store
from transit.delivery.alert_events import AlertEvent
from transit.delivery.vapid import public_key
from transit.delivery.webhooks import Deliverer, RetryPolicy

FAST = RetryPolicy(base_s=0.05, max_s=0.2)


class Receiver:
    """A webhook receiver: answers the statuses queued in `script` (then 200); "hang"
    sleeps past the deliverer's timeout. Records (headers, body) of every request."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int | str] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with outer.lock:
                    outer.requests.append(({k.lower(): v for k, v in self.headers.items()},
                                           body))
                    action = outer.script.pop(0) if outer.script else 200
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                if action == "hang":
                    time.sleep(1.5)
                    action = 200
                self.send_response(int(action))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        with self.lock:
            return [h["webhook-id"] for h, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=databases.BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql" and databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    with databases.database_url(request.param, tmp_path) as url:
        d = Database(url)
        migrate.upgrade(d)
        with d.session() as s:
            s.add(UserRow(id="u1", kind="anonymous", email=None, password_hash=None,
                          profile={}, created_at=datetime.now(UTC), registered_at=None))
        yield d
        d.dispose()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _hook(db: Database, url: str) -> WebhookRow:
    return store.add_webhook(db, "u1", url, True, datetime.now(UTC), 10)


def _rows(db: Database) -> list[OutboxRow]:
    with db.session() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _hook_row(db: Database, hook_id: str) -> WebhookRow:
    with db.session() as s:
        row = s.get(WebhookRow, hook_id)
        assert row is not None
        return row


def test_signed_per_standard_webhooks(db: Database, receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)
    body = json.dumps({"type": "alert.new", "data": {"id": "al_1"}})
    outbox.enqueue(db, hook.id, "msg_1", body, time.time())
    d = Deliverer(db, allow_private=True)
    assert d.run_once() == 1
    [(headers, got)] = receiver.requests
    assert got == body.encode()
    assert headers["webhook-id"] == "msg_1"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5  # real time
    assert Webhook(hook.secret).verify(got, headers) == json.loads(body)
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(store.add_webhook(db, "u1", receiver.url, True, datetime.now(UTC), 10).secret
                ).verify(got, headers)
    [row] = _rows(db)
    assert row.delivered_at is not None and row.attempts == 1 and row.outcome == "HTTP 200"
    assert d.run_once() == 0  # delivered once
    d.stop()


def test_retries_keep_the_webhook_id_with_backoff(db: Database, receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)
    outbox.enqueue(db, hook.id, "msg_r", "{}", time.time())
    receiver.script = [500, 503, 200]
    d = Deliverer(db, allow_private=True, policy=FAST)
    stamps = []
    deadline = time.monotonic() + 10
    while len(receiver.requests) < 3 and time.monotonic() < deadline:
        if d.run_once():
            stamps.append(time.monotonic())
        time.sleep(0.005)
    assert receiver.ids() == ["msg_r"] * 3
    # backoff: at least half of the step (0.05 s, then 0.1 s) between attempts
    assert stamps[1] - stamps[0] >= 0.025 and stamps[2] - stamps[1] >= 0.05
    [row] = _rows(db)
    assert row.delivered_at is not None and row.attempts == 3
    assert _hook_row(db, hook.id).failing_since is None  # recovered
    d.stop()


def test_a_receiver_that_hangs_times_out_and_is_retried(db: Database,
                                                         receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)
    outbox.enqueue(db, hook.id, "msg_h", "{}", time.time())
    receiver.script = ["hang"]
    d = Deliverer(db, allow_private=True, policy=FAST, timeout_s=0.3)
    t0 = time.monotonic()
    assert d.run_once() == 1
    assert time.monotonic() - t0 < 1.2  # the timeout, not the receiver's 1.5 s
    [row] = _rows(db)
    assert row.delivered_at is None and row.attempts == 1 and "Timeout" in (row.outcome or "")
    assert "Timeout" in (_hook_row(db, hook.id).last_error or "")
    deadline = time.monotonic() + 5
    while _rows(db)[0].delivered_at is None and time.monotonic() < deadline:
        d.run_once()
        time.sleep(0.01)
    assert receiver.ids() == ["msg_h", "msg_h"]
    d.stop()


def test_410_disables_the_webhook_and_settles_its_messages(db: Database,
                                                             receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)
    for i in range(3):
        outbox.enqueue(db, hook.id, f"msg_{i}", "{}", time.time())
    receiver.script = [410]
    d = Deliverer(db, allow_private=True, batch=1)
    assert d.run_once() == 1
    row = _hook_row(db, hook.id)
    assert row.disabled_at is not None
    assert row.disabled_reason == "the receiver answered 410 Gone"
    assert d.run_once() == 0 and receiver.ids() == ["msg_0"]
    assert [r.outcome for r in _rows(db)] == [
        "gave up: HTTP 410", "not sent: the receiver answered 410 Gone",
        "not sent: the receiver answered 410 Gone"]
    listed = store.webhook_dict(row)
    assert listed["active"] is False and listed["disabled_reason"].endswith("410 Gone")
    d.stop()


def test_a_day_of_failures_disables_with_the_reason(db: Database, receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)
    outbox.enqueue(db, hook.id, "msg_d", "{}", time.time())
    receiver.script = [500] * 100
    clock = [time.time()]
    d = Deliverer(db, allow_private=True, now=lambda: clock[0],
                  policy=RetryPolicy(base_s=60, max_s=3600))
    attempts = 0
    while _hook_row(db, hook.id).disabled_at is None and attempts < 60:
        attempts += d.run_once()
        clock[0] += 3601  # an hour later (past any backoff step: at most an hour)
    row = _hook_row(db, hook.id)
    assert row.disabled_reason is not None
    assert row.disabled_reason.startswith("failing for 24 h; last error: HTTP 500"), \
        row.disabled_reason
    assert attempts == 25  # the first at hour 0, the last at hour 24
    d.stop()


def test_private_url_refused_at_delivery_without_the_setting(db: Database,
                                                              receiver: Receiver) -> None:
    hook = _hook(db, receiver.url)  # registered while allowed
    outbox.enqueue(db, hook.id, "msg_p", "{}", time.time())
    d = Deliverer(db, allow_private=False)
    d.run_once()
    assert receiver.requests == []
    assert "loopback" in (_hook_row(db, hook.id).disabled_reason or "")
    d.stop()


DELIVER = """
import sys, time
from transit.db.engine import Database
from transit.delivery.webhooks import Deliverer
d = Deliverer(Database(sys.argv[1]), allow_private=True, batch=100, lease_s=2.0)
print("ready", flush=True)
while True:
    d.run_once()
"""


def test_kill_9_mid_batch_loses_nothing(db: Database) -> None:
    receiver = Receiver(delay_s=0.01)
    try:
        hook = _hook(db, receiver.url)
        n = 300
        now = time.time()
        for i in range(n):
            outbox.enqueue(db, hook.id, f"msg_{i:04d}", json.dumps({"n": i}), now)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", DELIVER, db.url], env=env,
                                stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 30
            while len(receiver.requests) < 40 and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(proc.pid, signal.SIGKILL)  # in the middle of its first batch of 100
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stdout is not None:
                proc.stdout.close()
        seen_before = set(receiver.ids())
        assert 40 <= len(seen_before) < 100
        # a new deliverer: the claimed rows come back once the dead one's lease runs out
        d = Deliverer(db, allow_private=True, batch=100, lease_s=2.0)
        deadline = time.monotonic() + 60
        while outbox.pending(db) and time.monotonic() < deadline:
            if not d.run_once():
                time.sleep(0.1)
        d.stop()
        assert outbox.pending(db) == 0
        ids = receiver.ids()
        assert set(ids) == {f"msg_{i:04d}" for i in range(n)}  # every message arrived
        assert len(ids) - n <= 1  # at most the one in flight when killed came twice
        for headers, body in receiver.requests:  # retries signed alike, same id
            assert Webhook(hook.secret).verify(body, headers)["n"] == int(
                headers["webhook-id"][4:])
    finally:
        receiver.close()


def test_the_same_events_recorded_twice_queue_once(db: Database, receiver: Receiver) -> None:
    """Two processes sharing live data evaluate the same update: one message per alert
    version and webhook; the inbox keeps the highest version."""
    hook = _hook(db, receiver.url)
    at = datetime.now(UTC)
    with db.session() as s:
        s.add(CommuteRow(id="cm_1", user_id="u1", data={}, created_at=at, updated_at=at))

    def event(version: int, state: str) -> AlertEvent:
        return AlertEvent("al_x", "cm_1", "u1", "delay", state, version, int(time.time()),
                          "2026-06-01", {}, "A:T1", {"delay_s": 300 + 120 * version})

    first = [event(1, "new")]
    assert outbox.record(db, first, time.time()) == 1
    assert outbox.record(db, first, time.time()) == 0  # the other process: already queued
    assert outbox.record(db, [event(2, "updated")], time.time()) == 1
    assert outbox.record(db, first, time.time()) == 0  # a late duplicate of version 1
    assert [(r.webhook_id, r.message_id) for r in _rows(db)] == [
        (hook.id, "msg_al_x_v1"), (hook.id, "msg_al_x_v2")]
    with db.session() as s:
        row = s.get(AlertRow, "al_x")
        assert row is not None and (row.version, row.state) == (2, "updated")
    d = Deliverer(db, allow_private=True)
    d.run_once()
    d.stop()
    assert receiver.ids() == ["msg_al_x_v1", "msg_al_x_v2"]


def _statements(db: Database, action: object) -> int:
    """How many statements (an executemany counts once) `action()` sends."""
    from sqlalchemy import event as sa_event

    count = [0]

    def seen(*_: object) -> None:
        count[0] += 1

    sa_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        action()  # type: ignore[operator]
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", seen)
    return count[0]


def test_record_writes_a_batch_in_a_fixed_number_of_statements(db: Database) -> None:
    """The inbox and outbox rows of a batch go in bulk statements: 5 or 60 events, new or
    updated, cost the same number of statements."""
    at = datetime.now(UTC)
    with db.session() as s:
        s.add_all(CommuteRow(id=f"cm_{i}", user_id="u1", data={}, created_at=at,
                             updated_at=at) for i in range(60))
    hooks = [_hook(db, f"https://example.com/{i}") for i in range(2)]

    def events(n: int, first: int, version: int) -> list[AlertEvent]:
        return [AlertEvent(f"al_{first + i}", f"cm_{i}", "u1", "delay",
                           "new" if version == 1 else "updated", version, 1780000000,
                           "2026-06-01", {}, "A:T1", {"delay_s": 300 * version})
                for i in range(n)]

    written: list[int] = []
    counts = [_statements(db, lambda e=e: written.append(outbox.record(db, e, time.time())))
              for e in (events(5, 0, 1), events(60, 100, 1),  # new
                        events(5, 0, 2), events(60, 100, 2))]  # updated
    assert written == [10, 120, 10, 120]  # one message per event and webhook
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
    assert counts[1] <= 7, counts
    with db.session() as s:
        rows = {r.id: (r.version, r.state, r.payload["detail"]["delay_s"], r.commute_id)
                for r in s.scalars(select(AlertRow))}
    assert len(rows) == 65
    assert rows["al_3"] == (2, "updated", 600, "cm_3")
    assert rows["al_159"] == (2, "updated", 600, "cm_59")
    queued = [(r.webhook_id, r.message_id) for r in _rows(db)]
    assert len(queued) == len(set(queued)) == 260
    assert queued[:2] == [(hooks[0].id, "msg_al_0_v1"), (hooks[1].id, "msg_al_0_v1")]


def test_record_a_batch_with_an_event_twice_and_a_deleted_commute(db: Database) -> None:
    """An alert twice in one batch (two versions, or the same one again) queues each
    version once and the inbox keeps the highest; events of a deleted commute are
    dropped."""
    hook = _hook(db, "https://example.com/h")
    at = datetime.now(UTC)
    with db.session() as s:
        s.add(CommuteRow(id="cm_1", user_id="u1", data={}, created_at=at, updated_at=at))

    def event(aid: str, cid: str, version: int) -> AlertEvent:
        return AlertEvent(aid, cid, "u1", "delay", "new" if version == 1 else "updated",
                          version, 1780000000, "2026-06-01", {}, "A:T1",
                          {"delay_s": 300 * version})

    batch = [event("al_a", "cm_1", 1), event("al_a", "cm_1", 2), event("al_a", "cm_1", 1),
             event("al_gone", "cm_deleted", 1)]
    assert outbox.record(db, batch, time.time()) == 2
    assert [(r.webhook_id, r.message_id) for r in _rows(db)] == [
        (hook.id, "msg_al_a_v1"), (hook.id, "msg_al_a_v2")]
    with db.session() as s:
        assert [(r.id, r.version, r.state) for r in s.scalars(select(AlertRow))] == [
            ("al_a", 2, "updated")]


class PushService:
    """A local Web Push endpoint (what a browser vendor's push service does for the
    service): checks the VAPID JWT (RFC 8292) against the key in the header, and decrypts
    the payload (RFC 8291, aes128gcm) with the browser's private key."""

    def __init__(self, vapid_public: bytes) -> None:
        self.ua_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    outer.check({k.lower(): v for k, v in self.headers.items()}, body,
                                vapid_public)
                except Exception as exc:
                    outer.problems.append(f"{type(exc).__name__}: {exc}")
                self.send_response(outer.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def keys(self) -> tuple[str, str]:
        raw = self.ua_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return b64(raw), b64(self.auth)

    def check(self, headers: dict[str, str], body: bytes, vapid_public: bytes) -> None:
        auth = headers["authorization"]
        assert auth.startswith("vapid "), auth
        parts = dict(p.strip().split("=", 1) for p in auth[6:].split(","))
        assert unb64(parts["k"]) == vapid_public  # the key the service published
        head, claims, sig = parts["t"].split(".")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), vapid_public)
        raw = unb64(sig)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        c = json.loads(unb64(claims))
        assert c["aud"] == self.origin and c["sub"] == "mailto:ops@example.org"
        assert time.time() < c["exp"] <= time.time() + 24 * 3600
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
        plain = http_ece.decrypt(body, private_key=self.ua_key, auth_secret=self.auth,
                                 version="aes128gcm")
        self.received.append(json.loads(plain))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_web_push_signed_with_vapid_and_encrypted(db: Database, tmp_path: Path) -> None:
    vapid = Vapid02()
    vapid.generate_keys()
    pem = tmp_path / "vapid.pem"
    vapid.save_key(str(pem))
    public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    assert unb64(public_key(str(pem))) == public
    push = PushService(public)
    try:
        p256dh, auth = push.keys
        sub = store.add_push_subscription(db, "u1", f"{push.origin}/push/abc", p256dh, auth,
                                          True, datetime.now(UTC), 10)
        body = json.dumps({"type": "alert.new", "data": {
            "id": "al_1", "commute_id": "cm_1", "kind": "delay", "state": "new",
            "version": 1, "subject": "A:T1", "journey": {"legs": ["x" * 5000]}}})
        outbox.enqueue(db, sub.id, "msg_p1", body, time.time())
        d = Deliverer(db, allow_private=True, vapid=(str(pem), "mailto:ops@example.org"))
        assert d.run_once() == 1
        assert push.problems == []
        assert push.received == [{"type": "alert.new", "id": "al_1", "commute_id": "cm_1",
                                  "kind": "delay", "state": "new", "version": 1,
                                  "subject": "A:T1"}]
        assert _rows(db)[0].delivered_at is not None
        # the browser unsubscribed: the push service answers 410, the subscription goes
        push.status = 410
        outbox.enqueue(db, sub.id, "msg_p2", body, time.time())
        d.run_once()
        assert _hook_row(db, sub.id).disabled_reason == "the receiver answered 410 Gone"
        d.stop()
    finally:
        push.close()


@pytest.mark.parametrize(("p256dh", "auth", "why"), [
    ("not base64!!", b64(b"x" * 16), "base64url"),
    (b64(b"\x04" + b"x" * 10), b64(b"x" * 16), "keys.p256dh"),
    (b64(b"\x04" + b"x" * 64), b64(b"x" * 5), "keys.auth"),
])
def test_bad_push_keys_refused(db: Database, p256dh: str, auth: str, why: str) -> None:
    with pytest.raises(store.KeyRefused, match=why):
        store.add_push_subscription(db, "u1", "https://93.184.215.14/p", p256dh, auth, False,
                                    datetime.now(UTC), 10)
