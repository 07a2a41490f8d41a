"""Exactly-once bookkeeping of the bus consumers: applied message ids and fencing tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import UtcDateTime, utc_now
from backbeat.domain import limits


class AppliedMessage(Base):
    """A bus message whose effect is committed, with the reply it produced.

    Written in the same transaction as the effect, so a redelivered message is recognised
    and answered again (``reply``) without applying it twice. Purged after a retention time.
    """

    __tablename__ = "applied_messages"

    message_id: Mapped[str] = mapped_column(String(limits.MESSAGE_ID), primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    command_type: Mapped[str] = mapped_column(String(limits.MESSAGE_TYPE))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PartitionFence(Base):
    """The highest lease fencing token that committed work for a partition of a pool.

    A transaction of a lease holder first advances this row to its token; a holder whose
    token is lower lost the lease meanwhile and must not commit.
    """

    __tablename__ = "partition_fences"

    pool: Mapped[str] = mapped_column(String(limits.LEASE_POOL), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
