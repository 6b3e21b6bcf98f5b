"""Who may do what, decided here and nowhere else: every endpoint that acts on an operator
asks `authorize(principal, operator_id, permission)`."""

from __future__ import annotations

from dataclasses import dataclass

from transit.accounts.roles import GRANTS, Permission, Role, roles_with


@dataclass(frozen=True)
class Principal:
    """Whoever a request (or the command line) acts as."""

    role: Role
    operator_id: str | None  # None: an admin
    prefix: str  # names the actor in the audit log: a key prefix, "cli", "push-key"
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


CLI = Principal(role=Role.ADMIN, operator_id=None, prefix="cli")


class AccessDenied(Exception):
    """The principal may not do this to this operator."""


def allowed(principal: Principal, operator_id: str | None, permission: Permission) -> bool:
    """An admin may do anything; any other key only what its role grants, on its own
    operator. `operator_id` None means an action on no operator (only admins)."""
    if permission not in GRANTS[principal.role]:
        return False
    if principal.is_admin:
        return True
    return operator_id is not None and principal.operator_id == operator_id


def authorize(principal: Principal, operator_id: str | None, permission: Permission) -> None:
    if allowed(principal, operator_id, permission):
        return
    if permission not in GRANTS[principal.role]:
        raise AccessDenied(f"a {principal.role.value} key may not {permission.value}; roles "
                           f"that may: {', '.join(r.value for r in roles_with(permission))}")
    if operator_id is None:
        raise AccessDenied("only an admin key may do this")
    raise AccessDenied(f"this key belongs to operator {principal.operator_id!r}, not to "
                       f"{operator_id[:40]!r}")
