"""The now-playing UI: embeds, buttons, the message store and the manager that edits it."""
