"""Guild settings: blacklist entries become typed (``keyword:``, ``artist:``, ``channel:``,
``track:``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:45:00

An entry of the old flat list (a bare word or phrase) becomes ``keyword:ENTRY``; typed
entries stay. The downgrade turns ``keyword:`` entries back into bare ones (the flat list
read every entry as a keyword) and keeps the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = ("artist", "channel", "keyword", "track")
_TABLE = sa.table("server_configurations", sa.column("guild_id"), sa.column("blacklist", sa.JSON))


def _typed(entry: str) -> str | None:
    kind, sep, value = entry.partition(":")
    if sep and kind.strip().lower() in _KINDS and value.strip():
        return f"{kind.strip().lower()}:{value.strip()}"
    return f"keyword:{entry.strip()}" if entry.strip() else None


def _flat(entry: str) -> str | None:
    return entry.removeprefix("keyword:") if entry.startswith("keyword:") else entry


def _rewrite(change: Callable[[str], str | None]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_TABLE.c.guild_id, _TABLE.c.blacklist)).all()
    for guild_id, raw in rows:
        entries: Any = json.loads(raw) if isinstance(raw, str | bytes) else raw
        if not isinstance(entries, list) or not entries:
            continue
        changed: list[str] = []
        for entry in entries:
            new = change(str(entry))
            if new is not None and new not in changed:
                changed.append(new)
        if changed != entries:
            bind.execute(
                sa.update(_TABLE).where(_TABLE.c.guild_id == guild_id).values(blacklist=changed)
            )


def upgrade() -> None:
    _rewrite(_typed)


def downgrade() -> None:
    _rewrite(_flat)
