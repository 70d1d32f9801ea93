"""Email: the outbox (``service``), templates (``render``) and transports (``smtp``)."""
