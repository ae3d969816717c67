"""seal secrets at rest

Variable values, channel secrets and URLs, and the secrets run snapshots froze were stored in
the clear before; seal them under the server's key (testyard.crypto).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from testyard import crypto

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

variables = sa.table("variables", sa.column("id", sa.Integer), sa.column("value", sa.Text))
channels = sa.table(
    "channels", sa.column("id", sa.Integer), sa.column("secret", sa.Text), sa.column("url", sa.Text)
)
runs = sa.table("runs", sa.column("id", sa.Integer), sa.column("snapshot", sa.JSON))


def _seal_column(table: Any, column: str) -> None:
    conn = op.get_bind()
    col = table.c[column]
    rows = conn.execute(sa.select(table.c.id, col).where(~col.startswith(crypto.PREFIX))).all()
    for row_id, value in rows:
        conn.execute(
            table.update().where(table.c.id == row_id).values({column: crypto.seal(value or "")})
        )


def _convert_snapshots(convert: Any) -> None:
    conn = op.get_bind()
    for row_id, snapshot in conn.execute(sa.select(runs.c.id, runs.c.snapshot)).all():
        secrets = (snapshot or {}).get("secrets") or {}
        converted = {k: convert(str(v)) for k, v in secrets.items()}
        if converted != secrets:
            conn.execute(
                runs.update()
                .where(runs.c.id == row_id)
                .values(snapshot={**snapshot, "secrets": converted})
            )


def _seal_once(value: str) -> str:
    return value if value.startswith(crypto.PREFIX) else crypto.seal(value)


def upgrade() -> None:
    _seal_column(variables, "value")
    _seal_column(channels, "secret")
    _seal_column(channels, "url")
    _convert_snapshots(_seal_once)


def downgrade() -> None:
    _convert_snapshots(crypto.unseal)
    for table, column in ((variables, "value"), (channels, "secret"), (channels, "url")):
        conn = op.get_bind()
        col = table.c[column]
        for row_id, value in conn.execute(sa.select(table.c.id, col)).all():
            conn.execute(
                table.update().where(table.c.id == row_id).values({column: crypto.unseal(value)})
            )
