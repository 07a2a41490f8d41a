"""Audio service: players, queues, search, autoplay and lyrics on Lavalink nodes."""
