"""Web control panel: dashboard, queue sync store, webhooks, concierge API."""
