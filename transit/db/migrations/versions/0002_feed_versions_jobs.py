"""Feed versions of operators, and the durable job queue that validates and publishes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feed_versions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("operator_id", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("source_url", sa.String(2000), nullable=True),
        sa.Column("etag", sa.String(200), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("uploaded_by", sa.String(40), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.String(32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("diff", sa.JSON(), nullable=True),
        sa.Column("blocking", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(64), nullable=True),
        sa.Column("upload_path", sa.String(1000), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("published_by", sa.String(40), nullable=True),
        sa.Column("merged_version", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE",
                                name=op.f("fk_feed_versions_operator_id_operators")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_versions")),
    )
    op.create_index("ix_feed_versions_operator_id_uploaded_at", "feed_versions",
                    ["operator_id", "uploaded_at"])
    op.create_table(
        "jobs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("locked_by", sa.String(64), nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_index("ix_jobs_key_id", "jobs", ["key", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_key_id", table_name="jobs")
    op.drop_index("ix_jobs_status_id", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_feed_versions_operator_id_uploaded_at", table_name="feed_versions")
    op.drop_table("feed_versions")
