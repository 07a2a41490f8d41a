"""The web control panel: a FastAPI app with server-rendered pages, Discord OAuth2 login,
guild access by permission bits, and the guild settings editor.

``backbeat run panel`` serves it (:mod:`backbeat.panel.component`); :func:`create_app`
builds the app from a :class:`~backbeat.panel.deps.PanelDeps` (tests run it on port 0).
Details: ``docs/panel.md``.
"""
