"""Allow ``python -m backbeat``."""

from backbeat.cli import main

raise SystemExit(main())
