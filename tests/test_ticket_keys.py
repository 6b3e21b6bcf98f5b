"""The public ticket keys over HTTP, and the `transit verify-ticket` / `transit ticket-keys`
commands run as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import client_for
from transit.tickets.claims import TicketClaims
from transit.tickets.keyring import KeyRing
from transit.tickets.revocation import sign_revocations
from transit.tickets.token import issue_text
from transit.tickets.verify import verify_text

NOW = "2026-11-26T08:00:00+01:00"
T = int(datetime.fromisoformat(NOW).timestamp())
ROOT = Path(__file__).resolve().parents[1]


def claims(ticket_id: str = "tkt_cli1", until: int = T + 3600) -> TicketClaims:
    return TicketClaims(ticket_id, "RR:day", "Day pass", None, 2, T - 600, until, ("RR",),
                        (), T - 900)


# -- GET /.well-known/ticket-keys ----------------------------------------------------------

def test_the_keys_are_public_cacheable_and_verify_issued_tickets(tmp_path: Path) -> None:
    with client_for(tmp_path, NOW) as c:
        ring: KeyRing = c.app.state.ticket_keys  # type: ignore[attr-defined]
        assert ring.directory == tmp_path / "ticket-keys"
        r = c.get("/.well-known/ticket-keys")
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=300"
        [key] = r.json()["keys"]
        assert set(key) == {"kty", "crv", "alg", "use", "kid", "x", "not_after"}
        assert (key["kty"], key["crv"], key["alg"], key["not_after"]) == (
            "OKP", "Ed25519", "EdDSA", None)
        assert c.get("/.well-known/ticket-keys", headers={
            "If-None-Match": r.headers["etag"]}).status_code == 304
        text = issue_text(claims(), ring)
        assert verify_text(text, r.json(), T).kid == key["kid"]

        ring.rotate(T)
        again = c.get("/.well-known/ticket-keys")
        assert again.headers["etag"] != r.headers["etag"]
        assert [(k["kid"], k["not_after"]) for k in again.json()["keys"]][1] == (
            key["kid"], T + 3600)
        assert verify_text(text, again.json(), T).valid


def test_the_keys_endpoint_refuses_what_it_does_not_serve(tmp_path: Path) -> None:
    with client_for(tmp_path, NOW, ticket_keys_dir=tmp_path / "secret") as c:
        r = c.get("/.well-known/ticket-keys?kid=../../etc/passwd&" + "x=" + "A" * 4000)
        assert r.status_code == 200 and len(r.json()["keys"]) == 1  # parameters are ignored
        assert [p.suffix for p in (tmp_path / "secret").iterdir() if p.suffix == ".pem"] \
            == [".pem"]
        assert b"PRIVATE" not in r.content and "d" not in r.json()["keys"][0]
        for method in ("POST", "PUT", "DELETE"):
            refused = c.request(method, "/.well-known/ticket-keys", content=b"{}")
            assert refused.status_code == 405, method
            assert refused.headers["content-type"] == "application/problem+json"
        assert c.get("/.well-known/ticket-keys/KID").status_code == 404
        assert c.get("/.well-known/../ticket-keys").status_code == 404


# -- the commands --------------------------------------------------------------------------

def transit(*args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as a person runs it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    return subprocess.run([sys.executable, "-m", "transit", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, input=stdin,
                          env={**base, "PYTHONPATH": str(ROOT), **(env or {})})


def cli(*args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The same command in this process (a new process costs seconds of imports)."""
    from typer.testing import CliRunner

    from transit.cli import app

    clean = {k: None for k in os.environ if k.startswith("TRANSIT_")}
    got = CliRunner().invoke(app, list(args), input=stdin, env={**clean, **(env or {})})
    return subprocess.CompletedProcess(args, got.exit_code, got.stdout, got.stderr)


def test_verify_ticket_says_valid_or_invalid_with_reasons(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "ticket-keys")
    text = issue_text(claims(), ring)
    data = ("--data-dir", str(tmp_path))
    ok = transit("verify-ticket", text, "--at", NOW, *data)
    assert (ok.returncode, ok.stdout.splitlines()[0]) == (0, "valid"), ok.stderr
    assert "ticket tkt_cli1: Day pass (RR:day), 2 × default rider, operators RR, zones all," \
        in ok.stdout
    late = transit("verify-ticket", text, "--at", "2026-11-26T09:00:01+01:00",
                   "--operator", "XX", *data)
    assert late.returncode == 1
    assert late.stdout.splitlines()[:3] == [
        "invalid", "  - expired: valid until 2026-11-26T08:00:00Z",
        "  - wrong operator: valid on RR, not XX"]

    (tmp_path / "ticket.txt").write_text(text + "\n")
    (tmp_path / "jwks.json").write_text(json.dumps(ring.jwks(T)))
    from_files = cli("verify-ticket", str(tmp_path / "ticket.txt"), "--keys",
                         str(tmp_path / "jwks.json"), "--at", NOW)
    assert from_files.stdout.startswith("valid\n") and from_files.returncode == 0
    from_stdin = cli("verify-ticket", "-", "--at", NOW, *data, stdin=text + "\n")
    assert from_stdin.returncode == 0, from_stdin.stdout

    tampered = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    bad = cli("verify-ticket", tampered, "--at", NOW, *data)
    assert bad.returncode == 1 and bad.stdout.startswith("invalid\n  - ")
    (tmp_path / "revoked.cbor").write_bytes(sign_revocations(["tkt_cli1"], "0", "1", ring))
    revoked = cli("verify-ticket", text, "--at", NOW, "--revoked",
                      str(tmp_path / "revoked.cbor"), *data)
    assert revoked.stdout.splitlines()[:2] == [
        "invalid", "  - revoked: ticket tkt_cli1 was refunded or cancelled"]


def test_verify_ticket_fetches_the_keys_from_a_url(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "ticket-keys")
    text = issue_text(claims(), ring)
    body = json.dumps(ring.jwks(T)).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/.well-known/ticket-keys"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        ok = transit("verify-ticket", text, "--keys", f"{url}/.well-known/ticket-keys",
                     "--at", NOW)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        missing = cli("verify-ticket", text, "--keys", f"{url}/nothing", "--at", NOW)
        assert missing.returncode == 2 and "404" in missing.stderr
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("args", "message"), [
    (("NOT-A-TICKET",), "'NOT-A-TICKET' is neither a TX1: text nor a readable file"),
    (("TX1:00", "--at", "2026-11-26T08:00"), "needs a UTC offset"),
    (("TX1:00", "--keys", "/nonexistent/jwks.json"), "No such file or directory"),
])
def test_verify_ticket_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...],
                                           message: str) -> None:
    done = cli("verify-ticket", *args, "--data-dir", str(tmp_path))
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_ticket_keys_rotate_and_list(tmp_path: Path) -> None:
    env = {"TRANSIT_CLOCK": NOW, "TRANSIT_DATA_DIR": str(tmp_path)}
    assert cli("ticket-keys", "list", env=env).stdout == (
        "no ticket keys yet (the first is made when the first ticket is issued)\n")
    first = transit("ticket-keys", "rotate", env=env).stdout.split()[-1]
    issue_text(claims(until=T + 7200), KeyRing(tmp_path / "ticket-keys"))
    second = cli("ticket-keys", "rotate", env=env).stdout.split()[-1]
    listed = cli("ticket-keys", "list", env=env).stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [[second, "active"],
                                                     [first, "verifying"]]
    assert listed[1].endswith("not_after 2026-11-26T09:00:00Z")
    later = {**env, "TRANSIT_CLOCK": "2026-11-26T10:00:01+01:00"}
    assert [line.split()[:2] for line in cli("ticket-keys", "list", env=later)
            .stdout.splitlines()] == [[second, "active"], [first, "retired"]]
