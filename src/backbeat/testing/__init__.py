"""Test kit: Discord and Lavalink emulators and the pytest plugin with backend fixtures."""
