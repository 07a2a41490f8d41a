"""Settings: one pydantic-settings model per component, from ``BACKBEAT_*`` variables and ``.env``.

Every setting is a flat environment variable (``BACKBEAT_REDIS_URL``, not a nested name) so
that a self-hoster can read ``docs/configuration.md`` and set exactly what is listed there.
:func:`load_settings` validates every section and turns the first problem into a
:class:`~backbeat.errors.ConfigurationError` that names the variable, which the CLI reports
with exit code 2.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backbeat.domain import limits
from backbeat.domain.search_query import DEFAULT_PROVIDER, SEARCH_PROVIDERS
from backbeat.errors import ConfigurationError

ENV_PREFIX = "BACKBEAT_"
_ALLOW_ENTRY = re.compile(r"(\*\.)?[\w.\-]+|\[?[0-9A-Fa-f:.]+\]?(/\d{1,3})?")
DEFAULT_ENV_FILE = Path(".env")
MASK = "********"

_DATABASE_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
    "mysql+aiomysql": "mysql+aiomysql",
    "mariadb+aiomysql": "mysql+aiomysql",
}


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name``."""
    return f"{ENV_PREFIX}{field_name.upper()}"


def mask_url(url: str) -> str:
    """Hide the password of a URL (``redis://:pw@host`` → ``redis://:********@host``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{user}:{MASK}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class _Section(BaseSettings):
    """Common source rules: ``BACKBEAT_`` prefix, ``.env`` file, unknown variables ignored."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )
    section: ClassVar[str]


def _parse_shard_ids(raw: str) -> list[int]:
    ids: list[int] = []
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            low, _, high = part.partition("-")
            ids.extend(range(int(low), int(high) + 1))
        else:
            ids.append(int(part))
    return ids


def _listed(value: object) -> object:
    """A comma-separated or JSON-list string as a list (anything else as it is)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError('must be a comma-separated or JSON list like ["a", "b"]') from exc
    return [part.strip() for part in text.split(",") if part.strip()]


def bot_user_id_from_token(token: str) -> int:
    """Decode the bot's user id from the first segment of a Discord token (base64 of the id)."""
    segment = token.split(".", 1)[0]
    padded = segment + "=" * (-len(segment) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError("the token's first segment is not base64") from exc
    if not decoded.isdigit():
        raise ValueError("the token's first segment does not encode a user id")
    return int(decoded)


class DiscordSettings(_Section):
    """How the gateway service reaches Discord (or the Discord emulator)."""

    section: ClassVar[str] = "discord"

    discord_token: SecretStr | None = Field(default=None, description="Bot token (secret).")
    bot_user_id: int | None = Field(
        default=None,
        validate_default=True,
        description="The bot's user id, sent to Lavalink as `User-Id`. "
        "Unset: derived from the token's first segment.",
    )
    discord_api_base: str = Field(
        default="https://discord.com/api/v10",
        description="Full REST API base, including `/api/v10`.",
    )
    discord_gateway_url: str = Field(
        default="wss://gateway.discord.gg/", description="Gateway WebSocket URL."
    )
    shard_count: int | None = Field(
        default=None, ge=1, description="Total shards. Unset: the count Discord recommends."
    )
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None,
        description="Shards this process runs: `0,1,2`, `0-3` or a JSON list. "
        "Unset: all of them. Needs `SHARD_COUNT`.",
    )

    @field_validator("bot_user_id")
    @classmethod
    def _derive_bot_user_id(cls, value: int | None, info: Any) -> int | None:
        if value is not None:
            if value <= 0:
                raise ValueError("must be a positive Discord user id")
            return value
        token: SecretStr | None = info.data.get("discord_token")
        if token is None:
            return None
        try:
            return bot_user_id_from_token(token.get_secret_value())
        except ValueError as exc:
            raise PydanticCustomError(
                "bot_user_id",
                "unset and not derivable from BACKBEAT_DISCORD_TOKEN ({reason}); "
                "set it or check the token",
                {"reason": str(exc)},
            ) from exc

    @field_validator("discord_api_base")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("must be an http(s) URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_gateway_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"ws", "wss"}:
            raise ValueError("must be a ws(s) URL such as wss://gateway.discord.gg/")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shards(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                return json.loads(text) if text.startswith("[") else _parse_shard_ids(text)
            except ValueError as exc:
                raise ValueError("must look like 0,1,2 or 0-3 or [0, 1]") from exc
        return value

    @field_validator("shard_ids")
    @classmethod
    def _check_shards(cls, value: list[int] | None, info: Any) -> list[int] | None:
        if value is None:
            return None
        count: int | None = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs BACKBEAT_SHARD_COUNT to be set as well")
        if not value or any(not 0 <= shard < count for shard in value):
            raise ValueError(f"each id must be in 0..{count - 1} (BACKBEAT_SHARD_COUNT={count})")
        return sorted(set(value))


class DatabaseSettings(_Section):
    """The SQL system of record."""

    section: ClassVar[str] = "database"

    data_dir: Path = Field(
        default=Path("data"), description="Directory for the embedded SQLite database."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite, postgresql or mysql/mariadb; the async driver "
        "is chosen for you). Unset: SQLite file `backbeat.db` in `DATA_DIR`.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme, sep, rest = value.partition("://")
        driver = _DATABASE_DRIVERS.get(scheme.lower())
        if not sep or driver is None:
            raise ValueError("must be a sqlite://, postgresql:// or mysql:// (mariadb://) URL")
        return f"{driver}://{rest}"

    @property
    def url(self) -> str:
        """The effective async SQLAlchemy URL."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'backbeat.db').as_posix()}"


class BusSettings(_Section):
    """The message bus between services."""

    section: ClassVar[str] = "bus"

    redis_url: str | None = Field(
        default=None,
        description="Redis URL for the bus, caches and leases. Unset: in-process bus "
        "(one process runs every component).",
    )
    redis_key_prefix: str = Field(
        default="",
        description="Prefix of every Redis key, to share one Redis between deployments.",
    )
    bus_partitions: int = Field(
        default=16,
        ge=1,
        le=4096,
        description="Partitions of `discord-bot:commands` and `discord-bot:to-audio` "
        "(guild id mod N). Every process of a deployment must agree.",
    )
    bus_max_deliveries: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Deliveries of a message before it goes to the dead-letter stream.",
    )
    bus_claim_idle_ms: int = Field(
        default=30_000,
        ge=10,
        description="Idle time after which another consumer takes over a pending message.",
    )
    bus_lease_ttl_ms: int = Field(
        default=10_000,
        ge=100,
        description="Lifetime of an audio worker's partition lease (renewed every third).",
    )
    bus_maxlen: int = Field(
        default=100_000, ge=100, description="Approximate length cap of each bus stream."
    )

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("redis_key_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.:\-]*", value):
            raise ValueError("may hold only letters, digits and _ . : -")
        return value


class LavalinkNode(BaseModel):
    """One Lavalink v4 node."""

    model_config = {"frozen": True, "extra": "forbid"}

    name: str = Field(min_length=1)
    url: str
    password: SecretStr
    region: str = "default"

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.port is None:
            raise ValueError("must be http(s)://host:port")
        return value.rstrip("/")


class LavalinkSettings(_Section):
    """The Lavalink nodes the audio service plays through."""

    section: ClassVar[str] = "lavalink"

    lavalink_nodes: Annotated[list[LavalinkNode], NoDecode] = Field(
        default_factory=list,
        description='JSON list of `{"name", "url", "password", "region"}`. '
        "Empty: the sandbox starts a local Lavalink emulator.",
    )

    lavalink_resume_timeout_s: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="Seconds a Lavalink node keeps this worker's session (and its players "
        "playing) after the socket dropped, waiting for a resume.",
    )
    lavalink_failover_grace_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="Seconds a dropped node may take to resume before its players move to "
        "another node.",
    )
    lavalink_region: str | None = Field(
        default=None,
        max_length=64,
        description="Preferred node region (a node's `region`) for new and moved players. "
        "Unset: any region.",
    )

    @field_validator("lavalink_nodes", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError(
                    'must be a JSON list like [{"name": "n1", "url": "http://127.0.0.1:2333", '
                    '"password": "...", "region": "eu"}]'
                ) from exc
        return value

    @field_validator("lavalink_nodes")
    @classmethod
    def _unique_names(cls, value: list[LavalinkNode]) -> list[LavalinkNode]:
        names = [node.name for node in value]
        if len(names) != len(set(names)):
            raise ValueError("node names must be unique")
        return value


class AudioSettings(_Section):
    """The audio service: voice handshake, timers, queue limits, exactly-once bookkeeping."""

    section: ClassVar[str] = "audio"

    audio_worker_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.:\-]{1,64}$",
        description="This audio worker's id in the lease pool. Unset: host name and process id.",
    )
    voice_connect_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Seconds a voice handshake may take before the join is abandoned.",
    )
    idle_leave_s: float = Field(
        default=300.0,
        ge=0,
        description="Seconds after the queue ends before the bot leaves voice (unless 24/7).",
    )
    alone_pause_s: float = Field(
        default=30.0,
        ge=0,
        description="Seconds alone in the voice channel before playback pauses (unless 24/7).",
    )
    alone_leave_s: float = Field(
        default=300.0,
        ge=0,
        description="Seconds alone in the voice channel before the bot leaves (unless 24/7).",
    )
    playlist_max_tracks: int = Field(
        default=500, ge=1, le=10_000, description="Most tracks one playlist or album adds."
    )
    guild_queue_max: int = Field(
        default=10_000, ge=1, le=100_000, description="Most upcoming tracks in one guild's queue."
    )
    applied_retention_s: int = Field(
        default=86_400,
        ge=60,
        description="How long applied command ids are kept to recognise redeliveries.",
    )
    # --- search, URL safety, playback failures (issue 11) ---
    search_provider: str = Field(
        default=DEFAULT_PROVIDER,
        description="Search provider of a query that is not a URL (`ytsearch`, `ytmsearch`, "
        "`scsearch`, `spsearch`, `amsearch`, `dzsearch`, `ymsearch`, `vksearch`).",
    )
    search_cache_ttl_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Seconds search results stay cached."
    )
    search_cache_max_entries: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most queries the in-process search cache holds (without Redis).",
    )
    suggest_budget_s: float = Field(
        default=1.5,
        gt=0,
        lt=3,
        description="Seconds a live search for `suggest` may take before it is answered "
        "with nothing.",
    )
    play_retry_base_s: float = Field(
        default=1.0, ge=0, le=60, description="First delay before a failed track is retried."
    )
    play_retry_cap_s: float = Field(
        default=30.0, ge=0, le=600, description="Longest delay between retries of a track."
    )
    play_retry_attempts: int = Field(
        default=3, ge=0, le=10, description="Retries of a track after a retryable failure."
    )
    play_failure_streak_limit: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Tracks failing in a row after which playback stops with one message.",
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts (`media.lan`, `*.lan`) and networks (`10.1.0.0/16`) admitted "
        "although the URL-safety guard would refuse them; comma-separated or a JSON list.",
    )
    url_max_length: int = Field(
        default=limits.QUERY,
        ge=16,
        le=limits.QUERY,
        description="Longest URL or search query accepted.",
    )
    url_resolve_timeout_s: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="Seconds the URL-safety guard waits for a host name to resolve.",
    )
    # --- lyrics (issue 18) ---
    lyrics_cache_ttl_s: int = Field(
        default=604_800,
        ge=60,
        le=31_536_000,
        description="Seconds fetched lyrics (or that a track has none) stay in LyricsCache "
        "before the node is asked again (default 7 days).",
    )

    @field_validator("search_provider")
    @classmethod
    def _check_provider(cls, value: str) -> str:
        if value not in SEARCH_PROVIDERS:
            raise ValueError(f"must be one of {', '.join(sorted(SEARCH_PROVIDERS))}")
        return value

    @field_validator("play_retry_cap_s")
    @classmethod
    def _check_cap(cls, value: float, info: Any) -> float:
        base: float | None = info.data.get("play_retry_base_s")
        if base is not None and value < base:
            raise ValueError(f"must be at least BACKBEAT_PLAY_RETRY_BASE_S ({base})")
        return value

    @field_validator("url_allowlist", mode="before")
    @classmethod
    def _parse_allowlist(cls, value: object) -> object:
        return _listed(value)

    @field_validator("url_allowlist")
    @classmethod
    def _check_allowlist(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not _ALLOW_ENTRY.fullmatch(entry):
                raise ValueError(
                    f"{entry!r} is neither a host (media.lan, *.lan) nor a network (10.0.0.0/8)"
                )
            if "/" in entry or ":" in entry:
                try:
                    ipaddress.ip_network(entry.replace("[", "").replace("]", ""), strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not a network (10.0.0.0/8)") from exc
        return value


class GatewaySettings(_Section):
    """The gateway service: the now-playing embed's look, reply timing, live lyrics."""

    section: ClassVar[str] = "gateway"

    embed_color: int = Field(
        default=0x5865F2, ge=0, le=0xFFFFFF, description="Colour of Backbeat's embeds (RGB)."
    )
    embed_footer: str = Field(
        default="Backbeat", max_length=200, description="Footer text of Backbeat's embeds."
    )
    embed_icon_url: str | None = Field(
        default=None, description="Icon shown in the embeds' footer. Unset: none."
    )
    autocomplete_budget_s: float = Field(
        default=2.5,
        gt=0,
        lt=3,
        description="Seconds `/play` autocomplete waits for audio's suggestions before "
        "answering with cached choices (Discord allows 3).",
    )
    reply_delete_after_s: float = Field(
        default=20.0,
        gt=0,
        description="Lifetime of a reply posted in the text channel once the interaction "
        "token has expired.",
    )
    identify_interval_s: float = Field(
        default=5.5,
        ge=0,
        le=60,
        description="Seconds between two IDENTIFYs of one concurrency bucket "
        "(`shard_id % max_concurrency`), across every gateway process (Discord: 5, plus a "
        "margin for connect time).",
    )
    lyrics_edit_interval_s: float = Field(
        default=1.5,
        ge=1.0,
        le=60,
        description="Fewest seconds between two edits of a live lyrics message (more: fewer "
        "REST calls, lines that move in bigger steps).",
    )
    lyrics_lines_before: int = Field(
        default=2, ge=0, le=10, description="Lines a live lyrics message shows before the sung one."
    )
    lyrics_lines_after: int = Field(
        default=4, ge=0, le=10, description="Lines a live lyrics message shows after the sung one."
    )
    lyrics_follow_max_s: float = Field(
        default=1800.0,
        ge=60,
        le=86_400,
        description="Longest time one live lyrics message follows playback.",
    )


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class LoggingSettings(_Section):
    """Structured logging."""

    section: ClassVar[str] = "logging"

    log_level: LogLevel = Field(default="INFO", description="Lowest level logged.")
    log_format: Literal["json", "console"] = Field(
        default="console", description="`json` (one object a line, for collectors) or `console`."
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object, info: Any) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value.upper() if info.field_name == "log_level" else value.lower()
        return value


class StatusSettings(_Section):
    """The status server (health, readiness, metrics) each service process mounts."""

    section: ClassVar[str] = "status"

    status_host: str = Field(default="127.0.0.1", description="Status server bind address.")
    status_port: int = Field(
        default=9400, ge=0, le=65535, description="Status server port (0: any free port)."
    )


class PanelSettings(_Section):
    """The web control panel: where it listens, its public address, its Discord login."""

    section: ClassVar[str] = "panel"

    panel_host: str = Field(default="127.0.0.1", description="Panel bind address.")
    panel_port: int = Field(
        default=8080, ge=0, le=65535, description="Panel port (0: any free port)."
    )
    panel_public_url: str | None = Field(
        default=None,
        description="The address browsers use (`https://panel.example.org`): the OAuth "
        "redirect URI is built from it, cookies are `Secure` when it is https. "
        "Unset: `http://PANEL_HOST:PANEL_PORT`.",
    )
    panel_session_secret: SecretStr | None = Field(
        default=None,
        description="Key (at least 32 characters, secret) that signs session and CSRF tokens. "
        "Needed to run the panel.",
    )
    panel_oauth_client_id: int | None = Field(
        default=None,
        description="The Discord application's OAuth2 client id. Unset: `BOT_USER_ID`.",
    )
    panel_oauth_client_secret: SecretStr | None = Field(
        default=None,
        description="The Discord application's OAuth2 client secret (secret). "
        "Needed to run the panel.",
    )
    panel_session_lifetime_s: int = Field(
        default=604_800,
        ge=60,
        le=31_536_000,
        description="Seconds a login lasts (absolute; the user logs in again after it).",
    )
    panel_discord_cache_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Seconds a session reuses Discord's answers (the user's guilds, a guild's "
        "roles and channels) before asking again.",
    )
    panel_login_limit: int = Field(
        default=10, ge=1, description="Logins one client address may start per window."
    )
    panel_login_window_s: int = Field(
        default=60, ge=1, description="Length of the login rate-limit window in seconds."
    )
    panel_trusted_proxies: Annotated[
        list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode
    ] = Field(
        default_factory=list,
        description="Addresses and networks (`127.0.0.1`, `10.0.0.0/8`) of the reverse "
        "proxies in front of the panel; comma-separated or a JSON list. A request from one "
        "of them is taken to come from the right-most X-Forwarded-For address that is not "
        "one of them. Empty: the connecting address, X-Forwarded-For ignored.",
    )

    @field_validator("panel_public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://panel.example.org")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValueError("must be the panel's origin, without a path, query or fragment")
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))

    @field_validator("panel_session_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("panel_trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        listed = _listed(value)
        if not isinstance(listed, list):
            return listed
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in listed:
            try:
                if not isinstance(entry, str):
                    raise TypeError("not a string")
                networks.append(ipaddress.ip_network(entry))
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{entry!r} is neither an address (10.0.0.1) nor a network (10.0.0.0/8): {exc}"
                ) from exc
        return networks

    @property
    def public_url(self) -> str:
        """The effective public origin (no trailing slash)."""
        if self.panel_public_url is not None:
            return self.panel_public_url
        host = f"[{self.panel_host}]" if ":" in self.panel_host else self.panel_host
        return f"http://{host}:{self.panel_port}"


SECTIONS: tuple[type[_Section], ...] = (
    DiscordSettings,
    DatabaseSettings,
    BusSettings,
    LavalinkSettings,
    AudioSettings,
    GatewaySettings,
    LoggingSettings,
    StatusSettings,
    PanelSettings,
)


class Settings(BaseModel):
    """All sections, validated together."""

    model_config = {"frozen": True}

    discord: DiscordSettings
    database: DatabaseSettings
    bus: BusSettings
    lavalink: LavalinkSettings
    audio: AudioSettings
    gateway: GatewaySettings
    logging: LoggingSettings
    status: StatusSettings
    panel: PanelSettings

    def sections(self) -> Iterator[_Section]:
        """Each section in documentation order."""
        for cls in SECTIONS:
            yield getattr(self, cls.section)

    def secrets(self) -> list[str]:
        """Every secret value set, so log rendering can scrub them wherever they appear."""
        found: list[str] = []
        if self.discord.discord_token is not None:
            found.append(self.discord.discord_token.get_secret_value())
        found.extend(node.password.get_secret_value() for node in self.lavalink.lavalink_nodes)
        for secret in (self.panel.panel_session_secret, self.panel.panel_oauth_client_secret):
            if secret is not None:
                found.append(secret.get_secret_value())
        for url in (self.database.database_url, self.bus.redis_url):
            password = urlsplit(url).password if url else None
            if password:
                found.append(password)
        return [secret for secret in found if secret]

    def public_view(self) -> dict[str, str]:
        """Effective settings keyed by variable name, every secret masked."""
        view: dict[str, str] = {}
        for section in self.sections():
            for name in type(section).model_fields:
                view[env_name(name)] = _display(getattr(section, name))
        view[env_name("database_url")] = mask_url(self.database.url)
        return view


def _display(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, str):
        return mask_url(value) if "://" in value else value
    if isinstance(value, list):
        items = [
            item.model_dump(mode="json") | {"password": MASK}
            if isinstance(item, LavalinkNode)
            else item
            for item in value
        ]
        return json.dumps(items)
    return str(value)


def _first_problem(section: type[_Section], error: ValidationError) -> ConfigurationError:
    detail = error.errors(include_url=False)[0]
    loc = detail["loc"]
    field = str(loc[0]) if loc else next(iter(section.model_fields))
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
    message = detail["msg"].removeprefix("Value error, ")
    raw = detail.get("input")
    secret = "token" in field or "secret" in field or "password" in where or "url" in field
    if isinstance(raw, str | int) and not isinstance(raw, bool) and not secret:
        message = f"{message} (got {raw!r})"
    return ConfigurationError(env_name(field) + where, message)


def load_settings(env_file: Path | None = DEFAULT_ENV_FILE) -> Settings:
    """Read and validate every section; raise ConfigurationError naming the first bad variable."""
    loaded: dict[str, _Section] = {}
    for cls in SECTIONS:
        try:
            loaded[cls.section] = cls(_env_file=env_file)
        except ValidationError as error:
            raise _first_problem(cls, error) from None
    return Settings.model_validate(loaded)
