"""HTTP routes of billing.

- ``POST /billing/webhook``: Stripe's events. The raw body is verified with the signing
  secret (Stripe's own signature code, 300 s tolerance) before anything is parsed or
  trusted; then the event is acted on once (``service.handle_event``). Answers: 200 when
  done (also for a duplicate, an event type we do not act on, or a customer that is not ours,
  so Stripe stops sending it), 400 for a bad signature, 503 when Stripe itself cannot be
  asked (Stripe delivers again later, and the nightly reconciliation catches what is left),
  404 when billing is off.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnipostr import db
from omnipostr.billing import service
from omnipostr.billing import stripe_gateway as gateway

log = logging.getLogger(__name__)

MAX_BODY = 512 * 1024


async def webhook(request: Request) -> JSONResponse:
    if not gateway.enabled():
        return JSONResponse({"error": "billing is off"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        event = gateway.verify_webhook(body, request.headers.get("stripe-signature", ""))
    except gateway.BadSignature as e:
        log.warning("stripe webhook refused: %s", e)
        return JSONResponse({"error": "bad signature"}, status_code=400)
    try:
        outcome = await db.run(service.handle_event, event)
    except gateway.StripeError as e:
        log.warning("stripe webhook %s not applied, Stripe will retry: %s", event.get("id"), e)
        return JSONResponse({"error": "try again"}, status_code=503)
    return JSONResponse({"received": True, "outcome": outcome})


routes = [Route("/billing/webhook", webhook, methods=["POST"])]
