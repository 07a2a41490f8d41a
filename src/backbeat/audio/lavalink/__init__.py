"""The Lavalink layer of the audio service: :class:`LavalinkPlayers` implements
:class:`backbeat.audio.ports.Players` on lavalink.py 5.x."""

from backbeat.audio.lavalink.players import LavalinkPlayers

__all__ = ["LavalinkPlayers"]
