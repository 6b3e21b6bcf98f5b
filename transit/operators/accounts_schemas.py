"""The accounts API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from transit.accounts import service
from transit.accounts.audit import AuditEntry

OperatorRoleName = Literal["publisher", "realtime", "viewer", "inspector"]
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class OperatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Prefixes every id of "
                    "the operator's feed, as OPERATOR:gtfs_id")
    name: str = Field(min_length=1, max_length=200, pattern=PRINTABLE)


class OperatorOut(BaseModel):
    id: str
    name: str
    source: str = Field(description="How it was created: catalog, timetable, cli or api")
    created_at: datetime

    @classmethod
    def of(cls, info: service.OperatorInfo) -> OperatorOut:
        return cls(id=info.id, name=info.name, source=info.source, created_at=info.created_at)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: OperatorRoleName
    label: str = Field("", max_length=100, pattern=PRINTABLE,
                       description="What the key is for, e.g. 'AVL server'")


class KeyRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_s: int | None = Field(None, ge=0, le=7 * 86400, description="How long the old "
                                "key keeps working; default TRANSIT_KEY_ROTATION_GRACE_S")


class KeyOut(BaseModel):
    id: str
    prefix: str = Field(description="The public start of the key (tk_...): names it in "
                        "lists and in the audit log")
    role: str
    operator: str | None
    label: str
    status: Literal["active", "expiring", "expired", "revoked"]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: str | None

    @classmethod
    def of(cls, info: service.KeyInfo, now: datetime) -> KeyOut:
        return cls(id=info.id, prefix=info.prefix, role=info.role, operator=info.operator_id,
                   label=info.label, status=info.status(now),  # type: ignore[arg-type]
                   created_at=info.created_at, created_by=info.created_by,
                   last_used_at=info.last_used_at, expires_at=info.expires_at,
                   revoked_at=info.revoked_at, replaced_by=info.replaced_by)


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself. Shown this once: store it now")


class KeyList(BaseModel):
    keys: list[KeyOut]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    operator: str | None
    actor: str = Field(description="Key prefix (or 'cli', 'push-key') of who acted")
    actor_role: str
    action: str
    target: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(id=e.id, at=e.at, operator=e.operator_id, actor=e.actor,
                   actor_role=e.actor_role, action=e.action, target=e.target,
                   details=e.details)


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next: str | None = Field(description="Path and query of the next (older) page; null "
                             "at the end")
