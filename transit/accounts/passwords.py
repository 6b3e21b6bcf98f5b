"""Passwords: the policy a new password must meet, and argon2id hashing (argon2-cffi).

An unknown email is answered after verifying against a dummy hash of the same cost, so the
time of the answer does not tell whether the account exists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a cap keeps a hostile body from costing more
EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"),
           re.compile(r"[^a-zA-Z0-9]"))


@dataclass(frozen=True)
class PolicyError(Exception):
    """A rule the input breaks: `field` (email or password), `rule` (a stable name) and a
    sentence for people."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def normalize_email(email: str) -> str:
    """The stored form of an email: trimmed, lower case; PolicyError when it is not one."""
    value = email.strip().lower()
    if len(value) > 254 or not EMAIL.match(value):
        raise PolicyError("email", "email_format", "not a valid email address")
    return value


def check_password(password: str, email: str | None = None) -> None:
    """PolicyError naming the first rule `password` breaks."""
    if len(password) < MIN_LENGTH:
        raise PolicyError("password", "min_length",
                          f"must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PolicyError("password", "max_length",
                          f"must have at most {MAX_LENGTH} characters")
    if any(ord(c) < 32 for c in password):
        raise PolicyError("password", "control_characters", "must not contain control "
                          "characters")
    if email is not None and password.strip().lower() in {email.lower(),
                                                          email.lower().split("@")[0]}:
        raise PolicyError("password", "not_email", "must not be the email address")
    if sum(1 for c in CLASSES if c.search(password)) < 2:
        raise PolicyError("password", "character_classes", "must mix at least two of: "
                          "lower case, upper case, digits, other characters")


class Passwords:
    """argon2id with the service's cost settings (tests lower them)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1
                 ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                      parallelism=parallelism)
        self._dummy = self._hasher.hash("dummy password for unknown accounts")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True when `password` matches `stored`; with no stored hash (unknown account,
        anonymous account) the same work is done against a dummy hash and False returned."""
        try:
            ok = self._hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored is not None
