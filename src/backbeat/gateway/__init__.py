"""Discord-facing service: sharded gateway, slash commands, interactions, now-playing UI."""
