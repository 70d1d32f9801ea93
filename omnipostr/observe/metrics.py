"""Prometheus metrics for the whole product.

Other capabilities use the helpers, never the metric objects:
``count_event("generation.completed")``, ``set_outbox_depth(n)``, ``observe_job(...)``.
Labels are bounded: request routes are path templates (``/api/v1/posts/{id}``), never raw
paths; event names must match ``[a-z0-9_.:-]{1,64}`` and at most ``MAX_EVENT_NAMES``
distinct names are kept (later ones count as ``other``).

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory) before
start-up: every worker then writes its samples there and ``/metrics`` adds them up.
"""

from __future__ import annotations

import os
import re
import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

HTTP_LATENCY = Histogram(
    "omnipostr_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EVENTS = Counter("omnipostr_events_total", "Product events by name.", ["event"])
OUTBOX_DEPTH = Gauge(
    "omnipostr_outbox_queue_depth",
    "Emails waiting in the outbox (queued or being sent).",
    multiprocess_mode="mostrecent",
)
JOB_RUNS = Counter("omnipostr_job_runs_total", "Background job runs by job and outcome.", ["job", "outcome"])
JOB_DURATION = Histogram(
    "omnipostr_job_duration_seconds",
    "Duration of background job runs.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0),
)

MAX_EVENT_NAMES = 200
_EVENT_NAME = re.compile(r"[a-z0-9_.:-]{1,64}")
_known_events: set[str] = set()
_lock = threading.Lock()

CONTENT_TYPE = CONTENT_TYPE_LATEST


def count_event(name: str, amount: float = 1.0) -> None:
    """Count one (or ``amount``) product event, e.g. ``count_event("email.sent")``."""
    if not _EVENT_NAME.fullmatch(name):
        name = "invalid"
    with _lock:
        if name not in _known_events:
            if len(_known_events) >= MAX_EVENT_NAMES:
                name = "other"
            else:
                _known_events.add(name)
    EVENTS.labels(event=name).inc(amount)


def set_outbox_depth(depth: int) -> None:
    OUTBOX_DEPTH.set(depth)


def observe_job(job: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job=job, outcome=outcome).inc()
    JOB_DURATION.labels(job=job).observe(seconds)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)


def render() -> bytes:
    """The Prometheus text exposition of every metric (all workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
