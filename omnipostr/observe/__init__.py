"""Operating the app: logs, the request log, metrics and health.

For the app assembly: ``routes`` (GET /health, GET /metrics), ``middleware(app)`` (the
request log; an ``api_transformer``), ``configure_logging(settings)``. For every capability:
``count_event(name)``.
"""

from omnipostr.observe.health import make_routes, routes
from omnipostr.observe.logs import configure_logging, redact
from omnipostr.observe.metrics import count_event, set_outbox_depth
from omnipostr.observe.request_log import RequestLogMiddleware, middleware

__all__ = [
    "RequestLogMiddleware",
    "configure_logging",
    "count_event",
    "make_routes",
    "middleware",
    "redact",
    "routes",
    "set_outbox_depth",
]
