"""English texts of the slash commands, as the command tree declares them (a unit test checks
they match): Discord shows these by default and the other catalogues translate every key.

Keys (``<path>``: the command's qualified name, ``settings.dj-role`` for a subcommand):
``name.<path>`` its name, ``cmd.<path>`` its description, ``option.<path>.<option>.name`` and
``.description`` an option's (``<option>`` is the name Discord sees), ``choice.<set>.<value>``
a choice's name (on/off, loop and autoplay modes and the blacklist scopes use their ``value.*``
keys instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

COMMANDS_EN: Final[Mapping[str, str]] = {
    # -- /play, /playnext, /playnow --
    "name.play": "play",
    "cmd.play": "Play a song or add it to the queue",
    "option.play.query.name": "query",
    "option.play.query.description": "A song name or a link",
    "name.playnext": "playnext",
    "cmd.playnext": "Queue a song to play next",
    "option.playnext.query.name": "query",
    "option.playnext.query.description": "A song name or a link",
    "name.playnow": "playnow",
    "cmd.playnow": "Play a song now, before the queue",
    "option.playnow.query.name": "query",
    "option.playnow.query.description": "A song name or a link",
    # -- player controls --
    "name.pause": "pause",
    "cmd.pause": "Pause the music",
    "name.resume": "resume",
    "cmd.resume": "Resume the music",
    "name.skip": "skip",
    "cmd.skip": "Skip the current track",
    "option.skip.count.name": "count",
    "option.skip.count.description": "How many tracks to skip (1 = only this one)",
    "name.voteskip": "voteskip",
    "cmd.voteskip": "Vote to skip the current track",
    "name.previous": "previous",
    "cmd.previous": "Play the previous track again",
    "name.stop": "stop",
    "cmd.stop": "Stop the music and clear the queue",
    "name.disconnect": "disconnect",
    "cmd.disconnect": "Leave the voice channel (the queue is kept)",
    "name.seek": "seek",
    "cmd.seek": "Jump to a time in the track",
    "option.seek.time.name": "time",
    "option.seek.time.description": "1:23 or 83 (to that time), +10 or -10 (seconds from here)",
    "name.volume": "volume",
    "cmd.volume": "Set the volume (100% leaves it unchanged)",
    "option.volume.percent.name": "percent",
    "option.volume.percent.description": "0 to 200",
    "name.loop": "loop",
    "cmd.loop": "Repeat the track or the queue",
    "option.loop.mode.name": "mode",
    "option.loop.mode.description": "off, track or queue",
    # -- the queue --
    "name.shuffle": "shuffle",
    "cmd.shuffle": "Shuffle the queue",
    "name.remove": "remove",
    "cmd.remove": "Remove a track from the queue",
    "option.remove.position.name": "position",
    "option.remove.position.description": "Its position in /queue",
    "name.move": "move",
    "cmd.move": "Move a track in the queue",
    "option.move.from.name": "from",
    "option.move.from.description": "Its position now",
    "option.move.to.name": "to",
    "option.move.to.description": "Where it goes",
    "name.clear": "clear",
    "cmd.clear": "Clear the queue (the current track keeps playing)",
    "name.queue": "queue",
    "cmd.queue": "Show the queue",
    "option.queue.page.name": "page",
    "option.queue.page.description": "Which page",
    # -- looking --
    "name.nowplaying": "nowplaying",
    "cmd.nowplaying": "Show what is playing",
    "name.lyrics": "lyrics",
    "cmd.lyrics": "Show the lyrics, in step with the song when they are timed",
    "option.lyrics.query.name": "query",
    "option.lyrics.query.description": "A song (leave out: the one playing)",
    "name.search": "search",
    "cmd.search": "Search and pick a track to queue",
    "option.search.query.name": "query",
    "option.search.query.description": "What to look for",
    # -- sound and autoplay --
    "name.filters": "filters",
    "cmd.filters": "Apply an audio filter",
    "option.filters.preset.name": "preset",
    "option.filters.preset.description": "The filter (off clears every filter)",
    "choice.preset.off": "off",
    "choice.preset.bassboost": "bassboost",
    "choice.preset.nightcore": "nightcore",
    "choice.preset.vaporwave": "vaporwave",
    "choice.preset.karaoke": "karaoke",
    "choice.preset.8d": "8d",
    "choice.preset.soft": "soft",
    "name.autoplay": "autoplay",
    "cmd.autoplay": "Keep playing similar music when the queue ends",
    "option.autoplay.enabled.name": "enabled",
    "option.autoplay.enabled.description": "on or off (leave out to toggle)",
    "option.autoplay.mode.name": "mode",
    "option.autoplay.mode.description": "How it picks",
    # -- the voice channel --
    "name.summon": "summon",
    "cmd.summon": "Bring the bot to your voice channel",
    "name.247": "247",
    "cmd.247": "Stay in the voice channel around the clock",
    "option.247.enabled.name": "enabled",
    "option.247.enabled.description": "on or off (leave out to toggle)",
    # -- /settings --
    "name.settings": "settings",
    "cmd.settings": "Server settings (server managers)",
    "name.settings.show": "show",
    "cmd.settings.show": "Show the server's settings",
    "name.settings.dj-role": "dj-role",
    "cmd.settings.dj-role": "The role that may control the player",
    "option.settings.dj-role.role.name": "role",
    "option.settings.dj-role.role.description": "Leave out to let everyone control the player",
    "name.settings.announce-channel": "announce-channel",
    "cmd.settings.announce-channel": "Where now-playing messages go",
    "option.settings.announce-channel.channel.name": "channel",
    "option.settings.announce-channel.channel.description": (
        "Leave out to use the channel of each command"
    ),
    "name.settings.autoplay-mode": "autoplay-mode",
    "cmd.settings.autoplay-mode": "How autoplay picks the next track",
    "option.settings.autoplay-mode.mode.name": "mode",
    "option.settings.autoplay-mode.mode.description": "similar, artist, genre or mixed",
    "name.settings.default-volume": "default-volume",
    "cmd.settings.default-volume": "The volume a new player starts at",
    "option.settings.default-volume.percent.name": "percent",
    "option.settings.default-volume.percent.description": (
        "0 to 200 (100 leaves the audio unchanged)"
    ),
    "name.settings.vote-skip-ratio": "vote-skip-ratio",
    "cmd.settings.vote-skip-ratio": "Share of listeners whose votes skip",
    "option.settings.vote-skip-ratio.percent.name": "percent",
    "option.settings.vote-skip-ratio.percent.description": "0 to 100 percent of the listeners",
    "name.settings.queue-limit": "queue-limit",
    "cmd.settings.queue-limit": "Tracks one member may have in the queue",
    "option.settings.queue-limit.tracks.name": "tracks",
    "option.settings.queue-limit.tracks.description": "0: no limit",
    "name.settings.247": "247",
    "cmd.settings.247": "Stay in the voice channel around the clock",
    "option.settings.247.enabled.name": "enabled",
    "option.settings.247.enabled.description": "on or off",
    "name.settings.blacklist-add": "blacklist-add",
    "cmd.settings.blacklist-add": "Never play tracks matching this",
    "option.settings.blacklist-add.entry.name": "entry",
    "option.settings.blacklist-add.entry.description": (
        "A word, an artist or a link; or type:value, e.g. artist:Name"
    ),
    "option.settings.blacklist-add.type.name": "type",
    "option.settings.blacklist-add.type.description": (
        "What the entry names (leave out to write type:value or a bare word or link)"
    ),
    "choice.kind.artist": "artist",
    "choice.kind.channel": "channel",
    "choice.kind.keyword": "keyword",
    "choice.kind.track": "track",
    "name.settings.blacklist-remove": "blacklist-remove",
    "cmd.settings.blacklist-remove": "Take an entry off the blacklist",
    "option.settings.blacklist-remove.entry.name": "entry",
    "option.settings.blacklist-remove.entry.description": (
        "The entry (as /settings blacklist-list shows it)"
    ),
    "name.settings.blacklist-list": "blacklist-list",
    "cmd.settings.blacklist-list": "Show the blacklist",
    "name.settings.blacklist-scope": "blacklist-scope",
    "cmd.settings.blacklist-scope": "Whether /play honours the blacklist",
    "option.settings.blacklist-scope.scope.name": "scope",
    "option.settings.blacklist-scope.scope.description": (
        "autoplay only (the default), or autoplay and /play"
    ),
}
