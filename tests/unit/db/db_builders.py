"""Builders shared by the database tests."""

from __future__ import annotations

from backbeat.domain.queue import NewQueueItem, QueueTrack


def track(name: str, *, length_ms: int = 180_000) -> QueueTrack:
    """A track whose every field derives from ``name``."""
    return QueueTrack(
        encoded=f"QAAA{name}==",
        identifier=f"id-{name}",
        title=f"Title {name}",
        author=f"Artist {name}",
        length_ms=length_ms,
        uri=f"https://example.test/{name}",
        source_name="youtube",
        extra={"name": name},
    )


def item(name: str, *, requester_id: int | None = 42, is_autoplay: bool = False) -> NewQueueItem:
    """A queue item for ``track(name)``."""
    return NewQueueItem(track=track(name), requester_id=requester_id, is_autoplay=is_autoplay)
