"""``backbeat bench``: the whole bot measured on this machine against both emulators."""
