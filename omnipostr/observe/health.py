"""``GET /health`` and ``GET /metrics``.

/health answers JSON::

    {"status": "ok" | "degraded" | "down",
     "database": {"ok": true, "latency_ms": 1.3},
     "scheduler": {"enabled": true, "running_here": true,
                   "lease": {"holder": ..., "expires_at": ..., "active": true,
                             "held_by_this_process": true},
                   "jobs": {"outbox.send": {"outcome": "ok", "ended_at": ..., "age_seconds": 3,
                                            "items": 0, "error": null}}},
     "time": "...Z"}

It is ``degraded`` when jobs are enabled but no process holds the lease, or when a job's
latest run failed; HTTP 503 (``down``) when the database cannot be reached. It never says why
in a way that shows the database address or credentials.

Anyone may ask, so the public answer names no host, process or error text: the lease's
holder and times and each job's last error are shown only to the operator, who sends
``Authorization: Bearer <Settings.metrics_token>``.

/metrics is the Prometheus text format. When ``Settings.metrics_token`` is set it asks for
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnipostr import clock
from omnipostr.jobs.service import _iso
from omnipostr.observe import metrics

logger = logging.getLogger("omnipostr.health")

DB_TIMEOUT_SECONDS = 3.0




def operator_token() -> str:
    from omnipostr.settings import get_settings

    token = get_settings().metrics_token
    return token.get_secret_value() if token is not None else ""


def is_operator(request: Request) -> bool:
    """The request carries the operator's token (never true when none is configured)."""
    token = operator_token()
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _public(sched: dict) -> dict:
    """What anyone may see of the scheduler: whether it runs and how the jobs went."""
    lease = sched.get("lease") or {}
    return {
        "enabled": sched.get("enabled"),
        "running_here": sched.get("running_here"),
        "lease": {"active": bool(lease.get("active"))},
        "jobs": {
            name: {k: v for k, v in run.items() if k in ("outcome", "ended_at", "age_seconds")}
            for name, run in (sched.get("jobs") or {}).items()
        },
    }


def _check(engine: Engine) -> dict:
    """Runs in a thread: database round trip, then the scheduler's state."""
    from sqlmodel import Session

    from omnipostr.jobs import runner, service

    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    latency = round((time.perf_counter() - t0) * 1000, 2)
    out: dict = {"database": {"ok": True, "latency_ms": latency}}

    me = runner.current()
    sched: dict = {"running_here": bool(me and me.running)}
    try:
        with Session(engine) as s:
            lease = service.lease_status(s)
            sched["lease"] = lease.as_dict(me.holder if me else None)
            now = clock.now()
            sched["jobs"] = {
                name: {
                    "outcome": run.outcome,
                    "started_at": _iso(run.started_at),
                    "ended_at": _iso(run.ended_at),
                    "age_seconds": round((now - (run.ended_at or run.started_at)).total_seconds()),
                    "items": run.items,
                    "error": run.error,
                }
                for name, run in sorted(service.last_runs(s).items())
            }
    except Exception as e:  # tables missing (not migrated yet) and the like
        logger.warning("health: scheduler state unavailable (%s)", type(e).__name__)
        sched["lease"] = None
        sched["jobs"] = {}
        sched["error"] = "scheduler state unavailable"
    out["scheduler"] = sched
    return out


def make_health(engine_getter: Callable[[], Engine] | None = None):
    async def health(request: Request) -> JSONResponse:
        from omnipostr.settings import get_settings

        get_engine = engine_getter
        if get_engine is None:
            from omnipostr import db

            get_engine = db.engine
        enabled = bool(get_settings().jobs_enabled)
        body: dict = {"time": _iso(clock.now())}
        try:
            result = await asyncio.wait_for(asyncio.to_thread(_check, get_engine()), DB_TIMEOUT_SECONDS)
        except Exception as e:
            reason = "timeout" if isinstance(e, TimeoutError) else "unreachable"
            logger.warning("health: database %s (%s)", reason, type(e).__name__)
            body.update(
                status="down",
                database={"ok": False, "error": reason},
                scheduler={"enabled": enabled},
            )
            return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})

        sched = result["scheduler"]
        sched["enabled"] = enabled
        lease = sched.get("lease") or {}
        degraded = (enabled and not lease.get("active")) or any(
            j["outcome"] == "failed" for j in sched.get("jobs", {}).values()
        )
        if not is_operator(request):
            sched = _public(sched)
        body.update(status="degraded" if degraded else "ok", database=result["database"], scheduler=sched)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return health


async def metrics_endpoint(request: Request) -> Response:
    if operator_token() and not is_operator(request):
        return Response("unauthorized\n", status_code=401, media_type="text/plain")
    data = await asyncio.to_thread(metrics.render)
    return Response(data, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def make_routes(engine_getter: Callable[[], Engine] | None = None) -> list[Route]:
    return [
        Route("/health", make_health(engine_getter), methods=["GET"], name="health"),
        Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics"),
    ]


routes: list[Route] = make_routes()
