"""Settings, read from `TRANSIT_*` environment variables (and `.env`)."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """'10.0.0.1, 192.168.0.0/16 ::1' -> networks; ValueError naming a bad entry."""
    out = []
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return tuple(out)


def default_catalog() -> Path:
    """`feeds/catalog.toml` of the working directory, else of the source checkout."""
    local = Path("feeds/catalog.toml")
    return local if local.exists() else PROJECT_ROOT / "feeds" / "catalog.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSIT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where compiled timetables and caches live.")
    catalog: Path = Field(default_factory=default_catalog, description="Operator catalog (TOML).")
    clock: str | None = Field(
        None, description="Serve as of this ISO 8601 instant; unset means the system clock."
    )
    clock_running: bool = Field(False, description="Let a pinned clock run on from its instant.")
    redis_url: str | None = None
    redis_prefix: str = Field("transit", description="Key prefix in Redis (several services "
                              "or test runs can share one Redis).")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the database (operators, keys, audit log); "
        "unset means a SQLite file DATA_DIR/transit.db. postgresql+psycopg://... shares one "
        "database between processes and hosts.")
    auto_migrate: bool = Field(True, description="Create and migrate the database on start.")
    key_rotation_grace_s: int = Field(
        900, ge=0, le=7 * 86400, description="How long a rotated key keeps working.")
    redis_timeout_s: float = Field(
        0.5, gt=0, le=10, description="Longest wait for one Redis call; a Redis that does not "
        "answer within it is treated as down (live data unavailable) until it answers again.")
    push_keys: dict[str, str] = Field(
        default_factory=dict, description='Operators allowed to push GTFS-RT, with their '
        'secret: JSON such as {"BA": "long-random-secret"}.')
    realtime_poll: bool = Field(True, description="Poll the catalog's GTFS-RT URLs.")
    realtime_stale_after_s: int = Field(
        90, description="Trip updates older than this (by the service clock) are not used.")
    max_json_bytes: int = Field(64 * 1024, description="Largest request body of the JSON "
                                "endpoints (uploads have their own limits).")
    realtime_max_delay_s: int = Field(
        6 * 3600, gt=0, description="A live time this far from the schedule (late or early) "
        "is implausible: its trip update is rejected.")
    realtime_future_tolerance_s: int = Field(
        300, ge=0, description="A feed or vehicle timestamp ahead of the service clock by more "
        "than this is refused.")
    realtime_vehicle_max_age_s: int = Field(
        300, gt=0, description="A vehicle whose last position is older than this (by the "
        "service clock) leaves the map.")
    max_push_bytes: int = Field(16 * 1024 * 1024, description="Largest GTFS-RT push body.")
    access_log: bool = Field(
        False, description="Log one line per request (uvicorn's access log). Off by default: "
        "the reverse proxy in front logs requests, and the line costs a few percent of "
        "throughput.")
    rate_limit_per_minute: int = Field(1200, description="Requests per client IP; 0 disables. "
                                       "Shared by every process when redis_url is set.")
    trusted_proxies: str = Field(
        "", description="Reverse proxies (IPs or CIDR networks, comma-separated) whose "
        "X-Forwarded-For names the client; from any other peer the header is ignored.")
    reload_interval_s: float = Field(0.5, description="How often workers look for a new "
                                     "version (a file read; a publish is served this long "
                                     "after its answer, plus the time to load it).")
    max_feed_bytes: int = Field(512 * 1024**2, description="Largest feed upload (or feed "
                                "fetched from an operator's URL): 413 beyond it.")
    feed_versions_kept: int = Field(5, ge=2, description="Compiled feed versions kept per "
                                    "operator, so a rollback never needs the upload again.")
    run_jobs: bool = Field(True, description="Run background jobs (feed validation and "
                           "publishing) in this process.")
    job_lease_s: float = Field(60.0, gt=0, description="A job whose process died is taken "
                               "up again after this long.")
    publish_wait_s: float = Field(120.0, ge=0, description="How long a publish request "
                                  "waits for the publish to be served before answering 202.")
    network: str | None = Field(
        None, description="Which network of the data directory to serve (`transit serve` "
        "sets it from its catalog or feeds); unset: the catalog's, else `default`.")
    feed_max_members: int = Field(500, description="Most members in a feed's zip.")
    feed_max_member_bytes: int = Field(512 * 1024**2, description="Largest uncompressed "
                                       "member of a feed's zip (or table of a folder feed).")
    feed_max_total_bytes: int = Field(1024**3, description="Largest uncompressed feed.")
    feed_max_ratio: float = Field(200.0, description="Highest compression ratio of a zip "
                                  "member above 1 MiB (real feeds: below 30).")
    feed_max_download_bytes: int = Field(512 * 1024**2, description="Largest feed download.")
    service_days_before: int = Field(1096, description="A feed whose service period is longer "
                                     "than before + after days is compiled from this many "
                                     "days before the clock's date...")
    service_days_after: int = Field(1096, description="...to this many days after it.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins whose browser pages may read the API "
        "(comma-separated, e.g. https://app.example.org; '*' for any); none by default.")
    kpi_flush_interval_s: float = Field(
        5.0, gt=0, description="How often the KPI recorder writes what it aggregated.")
    kpi_expected_interval_s: float = Field(
        30.0, gt=0, description="Expected interval between pushed live-data updates (polled "
        "feeds use their catalog interval); a gap is over kpi_gap_factor times this.")
    kpi_gap_factor: float = Field(3.0, gt=1, description="See kpi_expected_interval_s.")
    kpi_max_days: int = Field(366, ge=1, description="Longest date range of one KPI request.")

    access_token_ttl_s: int = Field(900, ge=30, le=86400, description="Lifetime of a "
                                    "commuter's access token.")
    refresh_token_ttl_s: int = Field(30 * 86400, ge=300, le=366 * 86400, description=
                                     "Lifetime of a commuter's refresh token (each use "
                                     "rotates it).")
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes.")
    argon2_memory_kib: int = Field(65536, ge=1024, le=4 * 1024 * 1024,
                                   description="argon2id memory per hash (KiB).")
    sign_in_max_failures_per_account: int = Field(
        10, ge=1, description="Failed sign-ins for one email within sign_in_window_s before "
        "429.")
    sign_in_max_failures_per_ip: int = Field(
        50, ge=1, description="Failed sign-ins from one client IP within sign_in_window_s "
        "before 429.")
    sign_in_window_s: int = Field(900, ge=1, description="See sign_in_max_failures_*.")
    max_favourites: int = Field(50, ge=1, le=1000, description="Favourites per user.")
    max_commutes: int = Field(50, ge=1, le=1000, description="Saved commutes per user.")
    max_webhooks: int = Field(5, ge=1, le=100, description="Webhooks per user.")
    webhook_allow_private: bool = Field(
        False, description="Allow webhook URLs on loopback, link-local and private "
        "addresses (tests, closed networks); refused otherwise.")
    webhook_timeout_s: float = Field(5.0, gt=0, le=60, description="Per webhook attempt.")
    webhook_retry_base_s: float = Field(5.0, gt=0, description="First retry delay; doubles "
                                        "per attempt (with jitter) up to an hour.")
    sse_ping_s: float = Field(15.0, gt=0, description="Heartbeat of /v1/me/events streams.")
    sse_poll_s: float = Field(1.0, gt=0, description="A stream reads the inbox at least this "
                              "often (alerts recorded by another process without Redis).")
    vapid_private_key: str | None = Field(
        None, description="Web Push: the VAPID private key (base64url of the raw P-256 "
        "key or its DER, or a PEM file path); unset: Web Push is off.")
    vapid_subject: str = Field("mailto:admin@localhost", description="Web Push: the VAPID "
                               "contact (mailto: or https: URL) push services see.")
    secret_key: str | None = Field(
        None, min_length=32, description="The server's secret (at least 32 characters; the "
        "same on every process and host): signs journey ids. Unset: a random one kept in "
        "DATA_DIR/secret.key (one host).")
    ticket_retention_days: int = Field(
        3653, ge=1, description="How long orders, tickets and receipts are kept after the "
        "sale (accounting records operators must keep), also when the account is erased.")
    payment_settle_after_s: int = Field(
        60, ge=1, le=86400, description="An order still waiting for its payment this long "
        "after its last change is settled in the background: the provider is asked what "
        "the charge became (captured: the tickets are issued; declined or none: failed; "
        "a `pending` order never charged: failed once its offer has expired).")
    payment_settle_interval_s: float = Field(
        15.0, ge=0, description="How often each API process looks for such orders "
        "(0: never; then only a look at the order settles it).")
    inspection_overlap_s: int = Field(
        600, ge=0, le=86400, description="One ticket inspected on two different vehicles "
        "within this many seconds is reported as shared.")
    ticket_keys_dir: Path | None = Field(
        None, description="Where the ticket signing keys are kept (secrets, files 0600; "
        "share it between the processes that issue tickets); unset: DATA_DIR/ticket-keys.")
    ticket_keys_max_age_s: int = Field(
        300, ge=0, le=86400, description="Cache-Control max-age of /.well-known/ticket-keys "
        "(a verifier that meets an unknown key id fetches again).")
    alert_lease_s: float = Field(
        15.0, gt=0, le=600, description="With Redis, one process evaluates commute alerts, "
        "the holder of a lease renewed every second; when it dies another takes over after "
        "this long.")
    deliver_webhooks: bool = Field(True, description="Run the webhook deliverer in this "
                                   "process (several may: the outbox is claimed row by row).")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """`a,b` from the environment; a list as given in code."""
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value


    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo is an error at start, not a silently open door
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
