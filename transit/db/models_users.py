"""Tables of the commuters: users (registered or anonymous device accounts) with their
profile, their tokens (stored only as SHA-256), sign-in failures (the rate limit) and their
favourites. Everything a user owns is deleted with the user (ON DELETE CASCADE), so erasing
an account is one DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from transit.db.models import Base


class UserRow(Base):
    """A commuter. `kind` is `anonymous` (a device account: no email, no password) or
    `registered`; an anonymous account upgraded by registering keeps its id and data."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # lower case
    password_hash: Mapped[str | None] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]


class UserTokenRow(Base):
    """An access or refresh token. Tokens issued from one sign-in share a `family`: each
    refresh rotates the refresh token within the family, and a refresh token presented a
    second time revokes the whole family (access tokens included)."""

    __tablename__ = "user_tokens"
    __table_args__ = (Index("ix_user_tokens_family", "family"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # access, refresh
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # a refresh token, once exchanged
    revoked_at: Mapped[datetime | None]


class SignInFailureRow(Base):
    """A failed sign-in, counted per account (`email:...`) and per client IP (`ip:...`)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]


class FavouriteRow(Base):
    """A favourite place (home, work, a stop, a station, a named coordinate) or route;
    `data` holds what the kind needs (stop id, coordinate, route id)."""

    __tablename__ = "favourites"
    __table_args__ = (Index("ix_favourites_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), ForeignKey("users.id",
                                                                ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
