"""`transit` command line: ingest feeds, serve the API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from transit.catalog import Catalog, load_catalog, parse_feed_option, with_feeds
from transit.errors import CatalogError, FeedError, FeedFetchError
from transit.settings import Settings

if TYPE_CHECKING:
    from transit.db.engine import Database
    from transit.ingest.limits import IngestLimits
    from transit.timetable.store import Store

app = typer.Typer(help="Merged multi-operator GTFS timetable service.", no_args_is_help=True)

FeedOpt = Annotated[list[str] | None, typer.Option(
    "--feed", help="OPERATOR=PATH_OR_URL; repeatable. Replaces the catalog's operator of that "
    "id, or adds one.")]
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="Operator catalog (TOML). Default: TRANSIT_CATALOG or feeds/catalog.toml")]
DataDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", help="Where compiled timetables live. Default: TRANSIT_DATA_DIR or ./var")]


def _settings(data_dir: Path | None, catalog: Path | None, **extra: object) -> Settings:
    overrides = {k: v for k, v in {"data_dir": data_dir, "catalog": catalog, **extra}.items()
                 if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def _catalog(settings: Settings, feeds: list[str] | None, use_catalog: bool) -> Catalog:
    given = [parse_feed_option(f) for f in feeds or []]
    base = load_catalog(settings.catalog) if use_catalog or not given else None
    return with_feeds(base, given)


def _limits(settings: Settings) -> IngestLimits:
    from transit.ingest.limits import ingest_limits

    return ingest_limits(settings)


def _run_ingest(settings: Settings, catalog: Catalog, only: list[str] | None) -> None:
    from transit.ingest.pipeline import ingest
    from transit.ingest.publish_lock import PublishLockError, publish_lock
    from transit.timetable.store import Store

    try:
        limits = _limits(settings)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        say = lambda m: typer.echo(m, err=True)  # noqa: E731
        lock = publish_lock(settings.data_dir, settings.redis_url, settings.redis_prefix, say)
        report = ingest(catalog, Store(settings.data_dir, catalog.network), only=only,
                        progress=True,
                        log=say, limits=limits, lock=lock)
    except (FeedError, FeedFetchError, CatalogError, PublishLockError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        typer.echo("nothing was published; the previous timetable (if any) keeps serving",
                   err=True)
        raise typer.Exit(2) from None
    c = report.counts
    typer.echo(
        f"published {report.version} (network {catalog.network}): {c['operators']} operators, "
        f"{c['stops']} stops, "
        f"{c['stations']} stations, {c['trips']} trips, {c['stop_times']} stop_times, "
        f"{c['footpaths']} footpaths in {report.seconds['total']:.1f} s "
        f"(read {', '.join(report.operators_read) or 'none'}; "
        f"reused {', '.join(report.operators_reused) or 'none'})")
    for op_id, warnings in report.warnings.items():
        for w in warnings:
            typer.secho(f"warning: operator {op_id}: {w}", fg="yellow", err=True)


@app.command()
def ingest(
    feed: FeedOpt = None, catalog: CatalogOpt = None, data_dir: DataDirOpt = None,
    operator: Annotated[list[str] | None, typer.Option(
        "--operator", help="Re-read only this operator's feed (repeatable); others are reused")
    ] = None,
    with_catalog: Annotated[bool, typer.Option(
        help="With --feed: also include the catalog's operators")] = False,
) -> None:
    """Read, validate and compile feeds, then publish a new timetable version atomically."""
    settings = _settings(data_dir, catalog)
    try:
        cat = _catalog(settings, feed, with_catalog)
    except CatalogError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    _run_ingest(settings, cat, operator)


def _compiled(store: Store, catalog: Catalog) -> bool:
    """Whether the network's current version was built from this catalog as it is now."""
    from transit.timetable.timetable import FormatError

    try:
        tt = store.load_current()
    except FormatError:
        return False
    return tt is not None and tt.meta.get("catalog") == catalog.fingerprint()


@app.command()
def serve(
    feed: FeedOpt = None, catalog: CatalogOpt = None, data_dir: DataDirOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    clock: Annotated[str | None, typer.Option(
        help="Serve as of this ISO 8601 instant, e.g. 2018-08-29T08:00-07:00")] = None,
    running_clock: Annotated[bool, typer.Option(
        help="Let the --clock instant run on at wall-clock speed")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help=(
        "Worker processes, forked from one that loaded the code and the timetable (they "
        "share both); a worker that dies is restarted"))] = 1,
    with_catalog: Annotated[bool, typer.Option(
        help="With --feed: also include the catalog's operators")] = False,
) -> None:
    """Serve the API of the catalog (or the --feed feeds) given, and follow its new versions.

    Compiles first when given --feed, or when this network has no version built from the
    catalog as it is now."""
    import uvicorn

    from transit.clock import clock_from_setting
    from transit.timetable.store import Store

    settings = _settings(data_dir, catalog, clock=clock, clock_running=running_clock or None)
    try:
        clock_from_setting(settings.clock)
        cat = _catalog(settings, feed, with_catalog)
    except (CatalogError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    if feed or not _compiled(Store(settings.data_dir, cat.network), cat):
        _run_ingest(settings, cat, None)
    # Workers build their app from the environment: pass the settings on through it.
    os.environ["TRANSIT_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["TRANSIT_NETWORK"] = cat.network
    os.environ["TRANSIT_CATALOG"] = str(settings.catalog)
    if settings.clock:
        os.environ["TRANSIT_CLOCK"] = settings.clock
    if settings.clock_running:
        os.environ["TRANSIT_CLOCK_RUNNING"] = "true"
    # proxy_headers off: the client address comes from the peer, or from X-Forwarded-For of
    # the proxies in TRANSIT_TRUSTED_PROXIES only (transit.api.forwarded), never from any
    # local peer's header as uvicorn would take it by default.
    if workers > 1:  # pre-forked workers share the imported code and the prepared version
        from transit.serving import ServeConfig, serve_forked

        serve_forked(ServeConfig(host, port, workers, settings.access_log,
                                 settings.data_dir.resolve(), cat.network))
        return
    uvicorn.run("transit.app:app_from_env", factory=True, host=host, port=port,
                log_level="info", server_header=False,
                proxy_headers=False, access_log=settings.access_log)


db_app = typer.Typer(help="The database: operators, keys, audit log (TRANSIT_DATABASE_URL, "
                     "default a SQLite file in the data directory).", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _database(data_dir: Path | None) -> Database:
    from transit.db.engine import database_for

    return database_for(_settings(data_dir, None))


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    data_dir: DataDirOpt = None,
) -> None:
    """Create or migrate the schema up to REVISION (default: the newest)."""
    from transit.db import migrate

    db = _database(data_dir)
    migrate.upgrade(db, revision)
    typer.echo(f"database at {migrate.current(db) or 'base (empty)'}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision: an id, "-1" or "base"')],
    data_dir: DataDirOpt = None,
) -> None:
    """Migrate the schema down to REVISION ("base" drops every table of the service)."""
    from transit.db import migrate

    db = _database(data_dir)
    migrate.downgrade(db, revision)
    typer.echo(f"database at {migrate.current(db) or 'base (empty)'}")


@db_app.command("current")
def db_current(data_dir: DataDirOpt = None) -> None:
    """Print the database's revision and the newest this code knows."""
    from transit.db import migrate

    db = _database(data_dir)
    typer.echo(f"database at {migrate.current(db) or 'base (empty)'}; head is {migrate.head()}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does")],
    data_dir: DataDirOpt = None,
) -> None:
    """For developers: write the next migration into transit/db/migrations/versions,
    generated from the difference between the models and a database migrated to head."""
    from alembic import command

    from transit.db import migrate

    db = _migrated(data_dir)
    rev_id = f"{int(migrate.head()) + 1:04d}"
    command.revision(migrate.alembic_config(db), message=message, autogenerate=True,
                     rev_id=rev_id)
    typer.echo(f"wrote revision {rev_id}; review it, then run the migration test")


admin_app = typer.Typer(help="Operators and their keys (acts as the service's owner).",
                        no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def _migrated(data_dir: Path | None) -> Database:
    from transit.db import migrate

    db = _database(data_dir)
    migrate.upgrade(db)
    return db


def _accounts_error(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg="red", err=True)
    return typer.Exit(2)


@admin_app.command("create-operator")
def create_operator(
    operator_id: Annotated[str, typer.Argument(metavar="ID", help="Operator id, e.g. BA")],
    name: Annotated[str, typer.Option("--name", help="The operator's name")],
    data_dir: DataDirOpt = None,
) -> None:
    """Create an operator in the database."""
    from transit.accounts import service
    from transit.accounts.scope import CLI

    try:
        info = service.create_operator(_migrated(data_dir), operator_id, name, CLI, "cli")
    except service.AccountsError as exc:
        raise _accounts_error(exc) from None
    typer.echo(f"created operator {info.id} ({info.name})")


@admin_app.command("create-key")
def create_key(
    role: Annotated[str, typer.Option("--role", help="admin, publisher, realtime, viewer "
                                      "or inspector")],
    operator: Annotated[str | None, typer.Option(
        "--operator", help="The operator the key belongs to (not for role admin)")] = None,
    label: Annotated[str, typer.Option(help="What the key is for")] = "",
    data_dir: DataDirOpt = None,
) -> None:
    """Create a key and print it once: only its hash is stored. The key alone goes to
    stdout (KEY=$(transit admin create-key ...)); what it is goes to stderr."""
    from transit.accounts import service
    from transit.accounts.scope import CLI

    try:
        issued = service.create_key(_migrated(data_dir), operator, role, CLI, label)
    except service.AccountsError as exc:
        raise _accounts_error(exc) from None
    who = f"operator {operator}" if operator else "the whole service"
    typer.echo(f"created {issued.info.role} key {issued.info.prefix} (id {issued.info.id}) "
               f"for {who}; it is shown this once:", err=True)
    typer.echo(issued.token)


OperatorOpt = Annotated[str | None, typer.Option(
    "--operator", help="The operator whose keys these are; without it, the admin keys")]


@admin_app.command("list-keys")
def list_keys(operator: OperatorOpt = None, data_dir: DataDirOpt = None) -> None:
    """List keys: id, prefix, role, status, created, last used, label (never the key)."""
    from datetime import UTC, datetime

    from transit.accounts import service

    now = datetime.now(UTC)
    for k in service.list_keys(_migrated(data_dir), operator):
        used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never"
        typer.echo(f"{k.id}  {k.prefix}  {k.role:<9}  {k.status(now):<8}  "
                   f"created {k.created_at.isoformat(timespec='seconds')}  used {used}  "
                   f"{k.label}")


@admin_app.command("revoke-key")
def revoke_key(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (key_...)")],
    operator: OperatorOpt = None, data_dir: DataDirOpt = None,
) -> None:
    """Revoke a key at once (an operator's with --operator, else an admin key)."""
    from transit.accounts import service
    from transit.accounts.scope import CLI

    try:
        info = service.revoke_key(_migrated(data_dir), operator, key_id, CLI)
    except service.AccountsError as exc:
        raise _accounts_error(exc) from None
    typer.echo(f"revoked {info.role} key {info.prefix} ({info.id})")


# -- tickets ----------------------------------------------------------------------------------

def _now(at: str | None, settings: Settings) -> int:
    """Unix seconds of --at, else of the service clock (TRANSIT_CLOCK or the system's)."""
    from datetime import datetime

    from transit.clock import clock_from_setting

    if at is None:
        return int(clock_from_setting(settings.clock).now().timestamp())
    instant = datetime.fromisoformat(at)
    if instant.tzinfo is None:
        raise ValueError(f"--at {at!r} needs a UTC offset, e.g. 2018-08-29T08:00-07:00")
    return int(instant.timestamp())


def _ticket_text(text_or_file: str) -> str:
    if text_or_file.startswith("TX1:"):
        return text_or_file
    if text_or_file == "-":
        import sys

        return sys.stdin.read().rstrip("\r\n")
    path = Path(text_or_file)
    if not path.is_file():
        raise ValueError(f"{text_or_file!r} is neither a TX1: text nor a readable file")
    return path.read_text(encoding="ascii", errors="replace").rstrip("\r\n")


def _ticket_keys(source: str | None, settings: Settings, now: int) -> dict:
    """A JWKS: fetched from a URL, read from a file, else this service's own key ring."""
    import json

    if source is None:
        from transit.tickets.keyring import keyring_for

        ring = keyring_for(settings.data_dir, settings.ticket_keys_dir)
        return {"keys": [k.jwk() for k in ring.keys(now) if k.status != "retired"]}
    if source.startswith(("http://", "https://")):
        import httpx

        r = httpx.get(source, timeout=10, follow_redirects=True)
        r.raise_for_status()
        return r.json()
    return json.loads(Path(source).read_text())


@app.command("verify-ticket")
def verify_ticket(
    text_or_file: Annotated[str, typer.Argument(
        metavar="TEXT_OR_FILE", help="The scanned TX1: text, a file holding it, or - (stdin)")],
    keys: Annotated[str | None, typer.Option(
        "--keys", metavar="URL_OR_FILE", help="The public keys (JWKS), e.g. "
        "https://HOST/.well-known/ticket-keys. Default: this service's key ring")] = None,
    at: Annotated[str | None, typer.Option(
        "--at", metavar="ISO", help="Verify as of this instant. Default: the service clock")
    ] = None,
    operator: Annotated[str | None, typer.Option(help="The inspecting operator")] = None,
    zone: Annotated[str | None, typer.Option(help="The zone of the inspection")] = None,
    revoked: Annotated[Path | None, typer.Option(
        help="A signed revocation list (GET /v1/tickets/revoked) to check against")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Verify a ticket offline: prints valid or invalid with every reason (exit 0 or 1)."""
    from transit.tickets.revocation import RevocationError, verify_revocations
    from transit.tickets.verify import KeysError, trusted_keys, verify_text

    settings = _settings(data_dir, None)
    try:
        now = _now(at, settings)
        text = _ticket_text(text_or_file)
        table = trusted_keys(_ticket_keys(keys, settings, now))
        ids = set(verify_revocations(revoked.read_bytes(), table)[0]) if revoked else set()
    except (ValueError, OSError, KeysError, RevocationError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # httpx errors, a JWKS that is not JSON
        typer.secho(f"error: keys from {keys}: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    result = verify_text(text, table, now, frozenset(ids), operator, zone)
    typer.echo("valid" if result.valid else "invalid")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")
    if result.claims is not None:
        c = result.claims
        typer.echo(f"  ticket {c.ticket_id}: {c.product_name} ({c.product_id}), "
                   f"{c.travellers} × {c.rider_category or 'default rider'}, "
                   f"operators {', '.join(c.operators)}, zones {', '.join(c.zones) or 'all'}, "
                   f"valid {_iso(c.valid_from)} to {_iso(c.valid_until)}, key {result.kid}")
    raise typer.Exit(0 if result.valid else 1)


def _iso(t: int | None) -> str:
    from datetime import UTC, datetime

    return "-" if t is None else datetime.fromtimestamp(t, UTC).isoformat().replace(
        "+00:00", "Z")


keys_app = typer.Typer(help="The ticket signing keys (TRANSIT_TICKET_KEYS_DIR, default "
                       "DATA_DIR/ticket-keys).", no_args_is_help=True)
app.add_typer(keys_app, name="ticket-keys")


@keys_app.command("rotate")
def rotate_ticket_keys(data_dir: DataDirOpt = None) -> None:
    """Make a new signing key; the old one verifies until its last ticket expires."""
    from transit.tickets.keyring import keyring_for

    settings = _settings(data_dir, None)
    kid = keyring_for(settings.data_dir, settings.ticket_keys_dir).rotate(_now(None, settings))
    typer.echo(f"active ticket key {kid}")


@keys_app.command("list")
def list_ticket_keys(data_dir: DataDirOpt = None) -> None:
    """Every key: active, verifying (until not_after) or retired."""
    from transit.tickets.keyring import keyring_for

    settings = _settings(data_dir, None)
    ring = keyring_for(settings.data_dir, settings.ticket_keys_dir)
    keys = ring.keys(_now(None, settings))
    if not keys:
        typer.echo("no ticket keys yet (the first is made when the first ticket is issued)")
    for k in keys:
        typer.echo(f"{k.kid}  {k.status:<9}  created {_iso(k.created_at)}  "
                   f"rotated {_iso(k.rotated_at)}  not_after {_iso(k.not_after)}")


def main() -> None:  # pragma: no cover
    app()
