"""Roles and what each may do. An admin acts on every operator; the other roles act only on
the operator their key belongs to (see transit.accounts.scope)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the service's owner
    PUBLISHER = "publisher"  # everything of its operator, including what a viewer sees
    REALTIME = "realtime"  # push GTFS-RT only
    VIEWER = "viewer"  # reports, audit log, KPIs
    INSPECTOR = "inspector"  # checks tickets


class Permission(StrEnum):
    """Values read as what the permission lets one do (they appear in error messages)."""

    MANAGE_OPERATORS = "create operators"
    MANAGE_KEYS = "manage keys"
    READ_AUDIT = "read the audit log"
    READ_REPORTS = "read reports and KPIs"
    PUBLISH_FEEDS = "publish feeds"
    PUSH_REALTIME = "push realtime data"
    INSPECT_TICKETS = "inspect tickets"


OPERATOR_ROLES: tuple[Role, ...] = (Role.PUBLISHER, Role.REALTIME, Role.VIEWER,
                                    Role.INSPECTOR)

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PUBLISHER: frozenset(Permission) - {Permission.MANAGE_OPERATORS},
    Role.REALTIME: frozenset({Permission.PUSH_REALTIME}),
    Role.VIEWER: frozenset({Permission.READ_REPORTS, Permission.READ_AUDIT}),
    Role.INSPECTOR: frozenset({Permission.INSPECT_TICKETS}),
}


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles granted `permission` (for error messages and tests)."""
    return tuple(r for r in Role if permission in GRANTS[r])
