"""Length limits shared by bus messages and SQL columns, in characters (code points).

One source for each: the message schemas (``Field(max_length=…)``) and the table columns
(``String(…)``) both read these constants, so a value a message accepts always fits the
column it is stored in, on SQLite, PostgreSQL and MariaDB alike (PostgreSQL and MariaDB
``utf8mb4`` count ``VARCHAR`` lengths in characters, as Python's ``len`` and pydantic do;
a 4-byte emoji is one character).

MariaDB indexes at most 3,072 bytes per key, 768 ``utf8mb4`` characters: a limit of a
column that is (or may become) part of an index stays at or below that. Columns no index
will need may be longer (``uri``, ``artwork_url``); the encoded track is ``TEXT``
(``MEDIUMTEXT`` on MariaDB, whose ``TEXT`` holds only 65,535 bytes).

Pure module: it imports nothing of Backbeat, so every layer may use it.
"""

from __future__ import annotations

from typing import Final

#: Largest number of ``utf8mb4`` characters one MariaDB index key may hold (3,072 bytes).
MARIADB_INDEX_CHARS: Final = 3072 // 4

# --- bus messages ----------------------------------------------------------------------------

#: An envelope id: 32 hex characters (12 of milliseconds, 20 random).
MESSAGE_ID: Final = 32
#: A message type (``play``, ``trackStart``…), also an audit action and an event type.
MESSAGE_TYPE: Final = 64
#: A search query or URL typed by a user.
QUERY: Final = 512

# --- tracks (messages, queue items, playback history) ------------------------------------------

#: A track's title as the node reports it.
TRACK_TITLE: Final = 512
#: A track's author (artist, channel).
TRACK_AUTHOR: Final = 512
#: A track's identifier at its source. For the http source it is the URL itself, so it is
#: as long as a query may be; it stays indexable on MariaDB (512 × 4 = 2,048 bytes).
TRACK_IDENTIFIER: Final = QUERY
#: A track's URI (never indexed).
TRACK_URI: Final = 2048
#: A track's artwork URL (never indexed).
TRACK_ARTWORK_URL: Final = 2048
#: The node's source manager name (``youtube``, ``http``, ``spotify``…).
TRACK_SOURCE_NAME: Final = 64
#: Lavalink's base64 track string; it encodes the fields above, so it may be long.
TRACK_ENCODED: Final = 65_536

# --- other records -----------------------------------------------------------------------------

#: An audit log action (a command type or ``settings.update``…).
AUDIT_ACTION: Final = MESSAGE_TYPE
#: A domain event type in the event store.
EVENT_TYPE: Final = MESSAGE_TYPE
#: The key of a lyrics cache entry (normalised ``artist - title`` or an ISRC); a primary key.
LYRICS_TRACK_KEY: Final = 255
#: Where lyrics came from (provider name shown as credit).
LYRICS_SOURCE: Final = 100
#: A Lavalink node's configured name, and a Lavalink session id.
NODE_NAME: Final = 64
LAVALINK_SESSION_ID: Final = 64
#: A lease pool name (``audio``); part of the fencing table's primary key.
LEASE_POOL: Final = 64
#: A rate-limit bucket name.
RATE_LIMIT_BUCKET: Final = 64

# --- guild settings ----------------------------------------------------------------------------

#: Entries one guild's blacklist may hold (``/settings``, the panel, autoplay-reject).
BLACKLIST_ENTRIES: Final = 100
#: The longest value of one blacklist entry (after its ``kind:`` prefix).
BLACKLIST_ENTRY: Final = 200
