"""Commuters' accounts: anonymous device accounts, registration (also upgrading an anonymous
account, which keeps its id and data), sign-in with a per-account and per-IP limit on
failures, token issue, rotation with reuse detection, and logout.

Functions take the Database and open their own transactions, so that the slow password hash
never runs while a transaction holds locks. `now` is the wall clock unless a test gives it:
token lifetimes are real time, not the service clock of a pinned timetable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from transit.accounts import tokens
from transit.accounts.passwords import Passwords, PolicyError, check_password, normalize_email
from transit.db.engine import Database
from transit.db.models_users import SignInFailureRow, UserRow, UserTokenRow


class UsersError(Exception):
    """Base of the errors below; the message says what was wrong."""


class InvalidGrant(UsersError):
    """Wrong email or password, or a refresh token that is unknown, expired or reused."""


class Conflict(UsersError):
    pass


class RateLimited(UsersError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class TokenPolicy:
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class SignInLimits:
    """At most `per_account` failed sign-ins for one email and `per_ip` from one client IP
    within `window`; beyond, 429 until the oldest failure leaves the window."""

    per_account: int = 10
    per_ip: int = 50
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class User:
    """The caller of a request, as its access token names it."""

    id: str
    kind: str
    email: str | None
    profile: dict[str, Any]
    created_at: datetime
    registered_at: datetime | None
    token_family: str = ""

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"


@dataclass(frozen=True)
class IssuedTokens:
    """A new access token and refresh token: shown once, stored hashed."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    family: str = field(repr=False, default="")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _user(row: UserRow, family: str = "") -> User:
    return User(id=row.id, kind=row.kind, email=row.email, profile=dict(row.profile or {}),
                created_at=row.created_at, registered_at=row.registered_at,
                token_family=family)


def _issue(s: Session, row: UserRow, policy: TokenPolicy, at: datetime,
           family: str | None = None) -> IssuedTokens:
    """A token pair in `family` (a new family for a new sign-in). The user's expired
    tokens go: a refresh token is kept (used) until it expires, for reuse detection, and
    no longer."""
    s.execute(delete(UserTokenRow).where(UserTokenRow.user_id == row.id,
                                         UserTokenRow.expires_at <= at))
    family = family or tokens.new_id("fam")
    pair = {}
    for kind, ttl in (("access", policy.access_ttl), ("refresh", policy.refresh_ttl)):
        token = tokens.generate(kind)  # type: ignore[arg-type]
        s.add(UserTokenRow(id=tokens.new_id("tok"), user_id=row.id, kind=kind,
                           token_hash=tokens.hash_token(token), family=family,
                           created_at=at, expires_at=at + ttl))
        pair[kind] = token
    return IssuedTokens(user=_user(row, family), access_token=pair["access"],
                        refresh_token=pair["refresh"],
                        expires_in=int(policy.access_ttl.total_seconds()), family=family)


def create_anonymous(db: Database, policy: TokenPolicy, now: datetime | None = None
                     ) -> IssuedTokens:
    at = _now(now)
    with db.session() as s:
        row = UserRow(id=tokens.new_id("usr"), kind="anonymous", email=None,
                      password_hash=None, profile={}, created_at=at)
        s.add(row)
        s.flush()
        return _issue(s, row, policy, at)


def register(db: Database, passwords: Passwords, policy: TokenPolicy, email: str,
             password: str, upgrading: User | None = None, now: datetime | None = None
             ) -> IssuedTokens:
    """A registered account; with `upgrading` (an anonymous caller), that account becomes
    registered and keeps its id and everything it saved. PolicyError for a bad email or a
    weak password, Conflict for an email in use or a caller already registered."""
    address = normalize_email(email)
    check_password(password, address)
    if upgrading is not None and not upgrading.anonymous:
        raise Conflict("this account is registered already")
    hashed = passwords.hash(password)
    at = _now(now)
    try:
        with db.session() as s:
            if s.scalar(select(UserRow.id).where(UserRow.email == address)) is not None:
                raise Conflict("an account with this email exists already")
            if upgrading is None:
                row = UserRow(id=tokens.new_id("usr"), kind="registered", email=address,
                              password_hash=hashed, profile={}, created_at=at,
                              registered_at=at)
                s.add(row)
            else:
                found = s.get(UserRow, upgrading.id)
                if found is None:
                    raise Conflict("this account no longer exists")
                row = found
                row.kind, row.email, row.password_hash = "registered", address, hashed
                row.registered_at = at
            s.flush()
            return _issue(s, row, policy, at)
    except IntegrityError:  # the same email registered at the same moment elsewhere
        raise Conflict("an account with this email exists already") from None


def _retry_after(s: Session, subject: str, limit: int, limits: SignInLimits,
                 at: datetime) -> int | None:
    since = at - limits.window
    recent = select(SignInFailureRow.at).where(SignInFailureRow.subject == subject,
                                               SignInFailureRow.at > since)
    count = s.scalar(select(func.count()).select_from(recent.subquery())) or 0
    if count < limit:
        return None
    oldest = s.scalars(recent.order_by(SignInFailureRow.at.desc())
                       .offset(limit - 1).limit(1)).first() or at
    return max(1, int((oldest + limits.window - at).total_seconds()) + 1)


def sign_in(db: Database, passwords: Passwords, policy: TokenPolicy, limits: SignInLimits,
            email: str, password: str, client_ip: str, now: datetime | None = None
            ) -> IssuedTokens:
    """A new token family for a correct email and password. InvalidGrant otherwise (the
    same answer, after the same work, for an unknown email); RateLimited when the account
    or the IP had too many failures lately."""
    at = _now(now)
    # what the database can hold: no control characters (PostgreSQL refuses NUL)
    address = "".join(c for c in email.strip().lower()[:254] if ord(c) >= 32)
    subjects = ((f"email:{address}", limits.per_account), (f"ip:{client_ip}", limits.per_ip))
    with db.session() as s:
        for subject, limit in subjects:
            wait = _retry_after(s, subject, limit, limits, at)
            if wait is not None:
                raise RateLimited("too many failed sign-ins for this "
                                  f"{subject.split(':')[0]}; retry later", wait)
        row = s.scalars(select(UserRow).where(UserRow.email == address)).first()
        stored = row.password_hash if row is not None else None
    if row is None or not passwords.verify(stored, password):
        with db.session() as s:  # failures older than the window are of no use: all go
            s.execute(delete(SignInFailureRow).where(
                SignInFailureRow.at <= at - limits.window))
            s.add_all(SignInFailureRow(subject=sub, at=at) for sub, _ in subjects)
        raise InvalidGrant("wrong email or password")
    with db.session() as s:
        s.execute(delete(SignInFailureRow).where(SignInFailureRow.subject == subjects[0][0]))
        fresh = s.get(UserRow, row.id)
        if fresh is None:
            raise InvalidGrant("wrong email or password")
        return _issue(s, fresh, policy, at)


def _revoke_family(s: Session, family: str, at: datetime) -> None:
    s.execute(update(UserTokenRow).where(UserTokenRow.family == family,
                                         UserTokenRow.revoked_at.is_(None))
              .values(revoked_at=at))


def refresh(db: Database, policy: TokenPolicy, refresh_token: str,
            now: datetime | None = None) -> IssuedTokens:
    """A new pair in the same family for a live refresh token, which is used up. A refresh
    token presented again (stolen, or replayed) revokes its family: the thief and the owner
    both sign in again."""
    if not tokens.well_formed(refresh_token, "refresh"):
        raise InvalidGrant("not a refresh token")
    at = _now(now)
    with db.session() as s:
        row = s.scalars(select(UserTokenRow).where(
            UserTokenRow.token_hash == tokens.hash_token(refresh_token),
            UserTokenRow.kind == "refresh")).first()
        if row is None:
            raise InvalidGrant("unknown refresh token")
        if row.revoked_at is None and row.used_at is None and row.expires_at <= at:
            raise InvalidGrant("the refresh token has expired; sign in again")
        used = s.execute(update(UserTokenRow).where(
            UserTokenRow.id == row.id, UserTokenRow.used_at.is_(None),
            UserTokenRow.revoked_at.is_(None)).values(used_at=at))
        if used.rowcount != 1:  # type: ignore[attr-defined]
            reused = True
        else:
            reused = False
            user = s.get(UserRow, row.user_id)
            assert user is not None  # tokens go with their user (ON DELETE CASCADE)
            return _issue(s, user, policy, at, family=row.family)
    if reused:  # its own transaction: the revocation stays even though the call fails
        with db.session() as s:
            _revoke_family(s, row.family, at)
    raise InvalidGrant("this refresh token was used already: every token of its sign-in "
                       "is revoked; sign in again")


def authenticate(db: Database, access_token: str, now: datetime | None = None
                 ) -> User | None:
    """The user of a live access token; None for anything else."""
    if not tokens.well_formed(access_token, "access"):
        return None
    at = _now(now)
    with db.session() as s:
        found = s.execute(select(UserRow, UserTokenRow.family).join(
            UserTokenRow, UserTokenRow.user_id == UserRow.id).where(
            UserTokenRow.token_hash == tokens.hash_token(access_token),
            UserTokenRow.kind == "access", UserTokenRow.revoked_at.is_(None),
            UserTokenRow.expires_at > at)).first()
        return _user(found[0], found[1]) if found is not None else None


def logout(db: Database, user: User, everywhere: bool = False, now: datetime | None = None
           ) -> int:
    """Revoke the caller's sign-in (its token family), or every token of the user; returns
    how many tokens were revoked."""
    at = _now(now)
    with db.session() as s:
        query = update(UserTokenRow).where(UserTokenRow.user_id == user.id,
                                           UserTokenRow.revoked_at.is_(None))
        if not everywhere:
            query = query.where(UserTokenRow.family == user.token_family)
        return int(s.execute(query.values(revoked_at=at)).rowcount)  # type: ignore[attr-defined]


def get_user(db: Database, user_id: str) -> User | None:
    with db.session() as s:
        row = s.get(UserRow, user_id)
        return _user(row) if row is not None else None


__all__ = ["Conflict", "InvalidGrant", "IssuedTokens", "PolicyError", "RateLimited",
           "SignInLimits", "TokenPolicy", "User", "UsersError"]


def set_profile(db: Database, user: User, profile: dict[str, Any]) -> dict[str, Any]:
    """Store the user's whole profile (validated by transit.profiles.fields)."""
    with db.session() as s:
        row = s.get(UserRow, user.id)
        if row is None:
            raise InvalidGrant("this account no longer exists")
        row.profile = dict(profile)
        return dict(row.profile)
