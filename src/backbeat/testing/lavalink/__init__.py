"""Lavalink v4 emulator: track codec, fictional catalog and (elsewhere in this package) the node."""
