"""The command line of the database and accounts, the catalog's operators on a fresh start,
and `transit serve` on the embedded SQLite file with keys made by the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CATALOG, client_for
from tests.feeds import write_feed
from tests.realtime_support import feed, free_port, stop_process, vehicle
from transit.accounts import service
from transit.accounts.scope import CLI
from transit.cli import app as cli
from transit.db import migrate
from transit.db.engine import Database, default_url

runner = CliRunner()
NOW = "2026-06-01T08:00:00+02:00"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_current_downgrade(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    head = migrate.head()  # the newest migration, whichever feature added it
    assert invoke("db", "current", "--data-dir", data)[1].strip() == (
        f"database at base (empty); head is {head}")
    assert invoke("db", "upgrade", "--data-dir", data)[1].strip() == f"database at {head}"
    assert invoke("db", "current", "--data-dir", data)[1].strip() == (
        f"database at {head}; head is {head}")
    assert invoke("db", "downgrade", "base", "--data-dir", data)[1].strip() == (
        "database at base (empty)")


def test_admin_creates_operators_and_prints_each_key_once(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, out, _ = invoke("admin", "create-operator", "BA", "--name", "Bay Area Rapid Transit",
                          "--data-dir", data)
    assert (code, out.strip()) == (0, "created operator BA (Bay Area Rapid Transit)")
    code, out, err = invoke("admin", "create-key", "--operator", "BA", "--role", "publisher",
                            "--label", "ops team", "--data-dir", data)
    assert code == 0
    key = out.strip()  # stdout is the key alone: KEY=$(transit admin create-key ...)
    assert key.startswith("tk_") and len(key) == 59 and key not in err
    assert f"created publisher key {key[:15]}" in err and "operator BA" in err
    db = Database(default_url(tmp_path / "data"))
    principal = service.authenticate(db, key)
    assert principal is not None and (principal.role, principal.operator_id) == (
        "publisher", "BA")
    code, out, _ = invoke("admin", "create-key", "--role", "admin", "--data-dir", data)
    admin = service.authenticate(db, out.strip())
    assert code == 0 and admin is not None and admin.is_admin
    entries = service.audit_page(db, "BA").entries
    assert [(e.action, e.actor) for e in entries] == [("key.create", "cli"),
                                                      ("operator.create", "cli")]
    db.dispose()


@pytest.mark.parametrize(("args", "message"), [
    (("create-operator", "BA", "--name", "Again"), "operator 'BA' exists already"),
    (("create-operator", "B A", "--name", "x"), "must be 1-32 letters"),
    (("create-key", "--role", "boss", "--operator", "BA"), "unknown role 'boss'"),
    (("create-key", "--role", "viewer"), "belongs to an operator"),
    (("create-key", "--role", "admin", "--operator", "BA"), "belongs to no operator"),
    (("create-key", "--role", "viewer", "--operator", "NOPE"), "unknown operator 'NOPE'"),
])
def test_admin_errors_exit_2_with_the_reason(tmp_path: Path, args: tuple[str, ...],
                                             message: str) -> None:
    data = str(tmp_path / "data")
    invoke("admin", "create-operator", "BA", "--name", "Bay Area", "--data-dir", data)
    code, out, err = invoke("admin", *args, "--data-dir", data)
    assert code == 2 and message in err and "tk_" not in out


def test_a_fresh_database_takes_the_catalogs_operators_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with client_for(data, NOW, catalog=DEMO_CATALOG, realtime_poll=False) as client:
        db = client.app.state.db  # type: ignore[attr-defined]
        ops = {o.id: (o.name, o.source) for o in service.list_operators(db)}
    assert ops == {"RR": ("Riverton Rail", "catalog"), "RB": ("Riverton Buses", "catalog"),
                   "RF": ("Riverton Ferries", "catalog")}
    other = tmp_path / "other.toml"
    other.write_text('[[operator]]\nid = "ZZ"\nname = "Later"\ngtfs = "x"\n'
                     '[[operator]]\nid = "RR"\nname = "Renamed"\ngtfs = "x"\n')
    with client_for(data, NOW, catalog=other, realtime_poll=False) as client:
        db = client.app.state.db  # type: ignore[attr-defined]
        ops = {o.id: o.name for o in service.list_operators(db)}
    # from then on the database is the source of truth: no import, no rename
    assert ops == {"RR": "Riverton Rail", "RB": "Riverton Buses", "RF": "Riverton Ferries"}


def test_auto_migrate_off_leaves_the_database_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = Database(default_url(data))
    with client_for(data, NOW, auto_migrate=False, realtime_poll=False,
                    catalog=tmp_path / "none.toml"):
        assert migrate.current(db) is None
    with client_for(data, NOW, realtime_poll=False, catalog=tmp_path / "none.toml"):
        assert migrate.current(db) == migrate.head()
    db.dispose()


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "exited")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("server did not become ready")


def test_serve_needs_no_database_server_and_takes_keys_from_the_cli(tmp_path: Path) -> None:
    """`transit serve` with 2 workers creates and migrates DATA_DIR/transit.db (both
    workers at once, under the lock); a key made by `transit admin` then works on every
    worker at once, and a revoked one on none."""
    port, data = free_port(), tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    env["TRANSIT_RATE_LIMIT_PER_MINUTE"] = "0"
    proc = subprocess.Popen(
        [sys.executable, "-m", "transit", "serve", "--data-dir", str(data), "--feed",
         f"A={write_feed(tmp_path / 'a', {})}", "--port", str(port), "--workers", "2",
         "--clock", NOW], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc)
        assert (data / "transit.db").exists()
        db = Database(default_url(data))
        assert migrate.current(db) == migrate.head()
        code, out, _ = invoke("admin", "create-key", "--operator", "A", "--role", "realtime",
                              "--data-dir", str(data))
        assert code == 0, out
        key = out.strip()
        ts = 1780293600
        body = feed(vehicle("v1", 50.0, 4.0), ts=ts).SerializeToString()
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers) as http:
            codes = {http.post("/v1/operators/A/realtime", content=body).status_code
                     for _ in range(10)}
            assert codes == {202}
            service.revoke_key(db, "A", service.list_keys(db, "A")[0].id, CLI)
            codes = {http.post("/v1/operators/A/realtime", content=body).status_code
                     for _ in range(10)}
            assert codes == {401}
        db.dispose()
    finally:
        stop_process(proc, timeout=20)


def test_admin_lists_and_revokes_keys(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    invoke("admin", "create-operator", "BA", "--name", "Bay Area", "--data-dir", data)
    key = invoke("admin", "create-key", "--operator", "BA", "--role", "viewer", "--label",
                 "wall screen", "--data-dir", data)[1].strip()
    admin = invoke("admin", "create-key", "--role", "admin", "--data-dir", data)[1].strip()
    code, out, _ = invoke("admin", "list-keys", "--operator", "BA", "--data-dir", data)
    assert code == 0 and key[:15] in out and "viewer" in out and "active" in out
    assert "wall screen" in out and "used never" in out and key not in out
    key_id = out.split()[0]
    out = invoke("admin", "list-keys", "--data-dir", data)[1]
    assert admin[:15] in out and key[:15] not in out
    code, _, err = invoke("admin", "revoke-key", key_id, "--data-dir", data)
    assert code == 2 and "the service has no key" in err  # an operator key needs --operator
    code, out, _ = invoke("admin", "revoke-key", key_id, "--operator", "BA", "--data-dir", data)
    assert (code, out.strip()) == (0, f"revoked viewer key {key[:15]} ({key_id})")
    db = Database(default_url(tmp_path / "data"))
    assert service.authenticate(db, key) is None and service.authenticate(db, admin)
    db.dispose()
    assert "revoked" in invoke("admin", "list-keys", "--operator", "BA", "--data-dir", data)[1]
