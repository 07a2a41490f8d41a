"""Message bus between the services: Redis Streams or in-process, one interface."""
