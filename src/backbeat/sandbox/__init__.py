"""The local sandbox: the whole bot against both emulators, and a page to use it in a browser.

``backbeat sandbox`` (:mod:`backbeat.sandbox.cli`) starts the Discord and Lavalink emulators,
every registered component on the embedded default (SQLite, the in-process bus) and the
sandbox page, all on 127.0.0.1. It may import the emulators of :mod:`backbeat.testing`; no
service imports it. docs/sandbox.md describes it.
"""
