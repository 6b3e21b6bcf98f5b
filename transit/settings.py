"""Settings, read from `TRANSIT_*` environment variables (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
    push_keys: dict[str, str] = Field(
        default_factory=dict, description='Operators allowed to push GTFS-RT, with their '
        'secret: JSON such as {"BA": "long-random-secret"}.')
    realtime_poll: bool = Field(True, description="Poll the catalog's GTFS-RT URLs.")
    realtime_stale_after_s: int = Field(
        90, description="Trip updates older than this (by the service clock) are not used.")
    max_json_bytes: int = Field(64 * 1024, description="Largest request body of the JSON "
                                "endpoints (uploads have their own limits).")
    max_push_bytes: int = Field(16 * 1024 * 1024, description="Largest GTFS-RT push body.")
    rate_limit_per_minute: int = Field(1200, description="Requests per client IP; 0 disables.")
    reload_interval_s: float = Field(2.0, description="How often workers look for a new version.")
    kpi_flush_interval_s: float = Field(
        5.0, gt=0, description="How often the KPI recorder writes what it aggregated.")
    kpi_expected_interval_s: float = Field(
        30.0, gt=0, description="Expected interval between pushed live-data updates (polled "
        "feeds use their catalog interval); a gap is over kpi_gap_factor times this.")
    kpi_gap_factor: float = Field(3.0, gt=1, description="See kpi_expected_interval_s.")
    kpi_max_days: int = Field(366, ge=1, description="Longest date range of one KPI request.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
