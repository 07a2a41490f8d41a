"""German texts of the slash commands' option descriptions, subcommand descriptions and
choice names, keyed by their English text (as the command tree declares them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

COMMAND_TEXTS_DE: Final[Mapping[str, str]] = {
    # options
    "A song name or a link": "Ein Songname oder ein Link",
    "How many tracks to skip (1 = only this one)": "Wie viele Titel (1 = nur dieser)",
    "1:23 or 83 (to that time), +10 or -10 (seconds from here)": (
        "1:23 oder 83 (zu dieser Zeit), +10 oder -10 (Sekunden von hier)"
    ),
    "0 to 200": "0 bis 200",
    "off, track or queue": "aus, Titel oder Warteschlange",
    "Its position in /queue": "Seine Position in /queue",
    "Its position now": "Seine Position jetzt",
    "Where it goes": "Wohin er kommt",
    "Which page": "Welche Seite",
    "What to look for": "Wonach gesucht wird",
    "A song (leave out: the one playing)": "Ein Song (weglassen: der laufende)",
    "The filter (off clears every filter)": "Der Filter (off entfernt alle Filter)",
    "on or off (leave out to toggle)": "an oder aus (weglassen zum Umschalten)",
    "How it picks": "Wie gewählt wird",
    "Leave out to let everyone control the player": "Weglassen: alle dürfen den Player steuern",
    "Leave out to use the channel of each command": "Weglassen: der Kanal des jeweiligen Befehls",
    "0 to 200 (100 leaves the audio unchanged)": "0 bis 200 (100 lässt den Ton unverändert)",
    "0 to 100 percent of the listeners": "0 bis 100 Prozent der Zuhörer",
    "0: no limit": "0: keine Grenze",
    "A word, an artist or a link": "Ein Wort, ein Künstler oder ein Link",
    # /settings subcommands
    "Show the server's settings": "Die Einstellungen des Servers zeigen",
    "The role that may control the player": "Die Rolle, die den Player steuern darf",
    "Where now-playing messages go": "Wohin die Jetzt-läuft-Nachrichten gehen",
    "How autoplay picks the next track": "Wie Autoplay den nächsten Titel wählt",
    "The volume a new player starts at": "Die Lautstärke, mit der ein neuer Player beginnt",
    "Share of listeners whose votes skip": "Anteil der Zuhörer, deren Stimmen überspringen",
    "Tracks one member may have in the queue": "Titel, die ein Mitglied einreihen darf",
    "Stay in the voice channel around the clock": "Rund um die Uhr im Sprachkanal bleiben",
    "Never play tracks matching this": "Passende Titel nie abspielen",
    "Take an entry off the blacklist": "Einen Eintrag von der Sperrliste nehmen",
    "Show the blacklist": "Die Sperrliste zeigen",
    # choices
    "on": "an",
    "off": "aus",
    "track": "Titel",
    "queue": "Warteschlange",
    "similar": "ähnlich",
    "artist": "Künstler",
    "genre": "Genre",
    "mixed": "gemischt",
    # /settings blacklist (issue 18)
    "A word, an artist or a link; or type:value, e.g. artist:Name": (
        "Ein Wort, ein Künstler oder ein Link; oder Typ:Wert, z. B. artist:Name"
    ),
    "What the entry names (leave out to write type:value or a bare word or link)": (
        "Was der Eintrag benennt (weglassen: Typ:Wert oder ein Wort oder Link)"
    ),
    "The entry (as /settings blacklist-list shows it)": (
        "Der Eintrag (wie /settings blacklist-list ihn zeigt)"
    ),
    "Whether /play honours the blacklist": "Ob /play die Sperrliste beachtet",
    "autoplay only (the default), or autoplay and /play": (
        "nur Autoplay (Standard) oder Autoplay und /play"
    ),
    "channel": "Kanal",
    "keyword": "Stichwort",
    "autoplay only": "nur Autoplay",
    "autoplay and /play": "Autoplay und /play",
}
