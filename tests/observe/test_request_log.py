"""The request log: one line per request with id, method, path, status and duration, and
never a query string, cookie, authorization header or token."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

QUERY = "token=QpZ7xK2mN9vB4cL1&email=ada%40example.com"


@pytest.mark.promise("LOG-1")
async def test_one_line_per_request_with_id_method_path_status_duration(client, log_lines):
    r = await client.get(
        f"/items/42?{QUERY}",
        headers={
            "Cookie": "omnipostr_session=SeSsIoNvAlUe123456; theme=dark",
            "Authorization": "Bearer AuThToKeN987654321",
            "User-Agent": "pytest",
        },
    )
    assert r.status_code == 200
    [line] = log_lines.records("omnipostr.request")
    assert line["method"] == "GET"
    assert line["path"] == "/items/42"
    assert line["route"] == "/items/{item_id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 5000
    assert line["client_ip"] == "198.51.100.7"
    assert re.fullmatch(r"[0-9a-f-]{36}", line["request_id"])
    assert r.headers["x-request-id"] == line["request_id"]
    assert line["msg"] == "GET /items/42 200"

    raw = log_lines.raw
    for secret in ("QpZ7xK2mN9vB4cL1", "token=", "ada%40example.com", "?", "SeSsIoNvAlUe123456",
                   "theme=dark", "AuThToKeN987654321", "Bearer", "pytest"):
        assert secret not in raw, secret


@pytest.mark.promise("LOG-1")
async def test_lines_logged_while_serving_carry_the_request_id(client, log_lines):
    r = await client.get("/items/7")
    rid = r.headers["x-request-id"]
    inner = [x for x in log_lines.records("omnipostr.test")]
    assert inner and inner[0]["msg"] == "looking up item 7" and inner[0]["request_id"] == rid


async def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(client, log_lines):
    r = await client.get("/items/1", headers={"X-Request-ID": "edge-4f2a9c.17:3"})
    assert r.headers["x-request-id"] == "edge-4f2a9c.17:3"
    for bad in ["short", "has space inside it", "x" * 65, "evil\u00e9-value-1234".encode(), "a\"b<script>c-1234"]:
        r = await client.get("/items/1", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad and len(r.headers["x-request-id"]) == 36
    assert [x["request_id"] for x in log_lines.records("omnipostr.request")][0] == "edge-4f2a9c.17:3"


async def test_tokens_in_the_path_are_redacted(client, log_lines):
    segment = "Vx9kQ2mZ7pL4nB8cR1tY6wE3sD5fG0hJ2kL9"
    r = await client.get(f"/items/{segment}")
    assert r.status_code == 200
    [line] = log_lines.records("omnipostr.request")
    assert segment not in log_lines.raw and line["path"] == "/items/[REDACTED]"


async def test_errors_are_logged_with_status_500(client, log_lines):
    r = await client.get("/crash")
    assert r.status_code == 500
    line = log_lines.records("omnipostr.request")[-1]
    assert (line["status"], line["level"], line["route"]) == (500, "WARNING", "/crash")


async def test_unmatched_and_mounted_routes_get_bounded_labels(client, log_lines):
    await client.get("/no/such/page/123")
    await client.get("/api/v1/posts/99")
    routes = [x["route"] for x in log_lines.records("omnipostr.request")]
    assert routes == ["unmatched", "/api/v1/posts/{post_id:int}"]


async def test_forwarded_for_is_used_only_behind_trusted_proxies(log_lines):
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from omnipostr.observe.request_log import RequestLogMiddleware

    async def ok(request):
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/", ok)])
    for hops, expected in [(0, "10.0.0.2"), (1, "203.0.113.50"), (2, "192.0.2.1")]:
        app = RequestLogMiddleware(inner, trusted_proxy_hops=hops)
        transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            await c.get("/", headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.50"})
        assert log_lines.records("omnipostr.request")[-1]["client_ip"] == expected


def test_websockets_pass_through_untouched(app, log_lines):
    with TestClient(app) as tc, tc.websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "echo:hi"
    assert log_lines.records("omnipostr.request") == []
