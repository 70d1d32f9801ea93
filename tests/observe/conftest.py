from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from omnipostr import observe
from omnipostr.observe.logs import make_handler


async def item(request: Request) -> JSONResponse:
    logging.getLogger("omnipostr.test").info("looking up item %s", request.path_params["item_id"])
    return JSONResponse({"id": request.path_params["item_id"]})


async def crash(request: Request):
    raise RuntimeError("handler bug")


async def echo(ws: WebSocket) -> None:
    await ws.accept()
    text = await ws.receive_text()
    await ws.send_text(f"echo:{text}")
    await ws.close()


async def nested(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_app(routes=None):
    """An app shaped like OmniPostr's: our routes, other routes, a mount, a websocket,
    wrapped in the request-log middleware."""
    app = Starlette(
        routes=[
            *(routes if routes is not None else observe.routes),
            Route("/items/{item_id}", item),
            Route("/crash", crash),
            WebSocketRoute("/ws", echo),
            Mount("/api/v1", routes=[Route("/posts/{post_id:int}", nested)]),
        ]
    )
    return observe.middleware(app)


@pytest.fixture
def app():
    return build_app()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("198.51.100.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class LogLines:
    def __init__(self, buf: io.StringIO) -> None:
        self.buf = buf

    @property
    def raw(self) -> str:
        return self.buf.getvalue()

    def records(self, logger: str | None = None) -> list[dict]:
        out = [json.loads(line) for line in self.raw.splitlines() if line.strip()]
        return [r for r in out if logger is None or r["logger"] == logger]


@pytest.fixture
def log_lines():
    """Everything logged under ``omnipostr`` through the production handler (JSON)."""
    buf = io.StringIO()
    handler = make_handler("json", stream=buf)
    lg = logging.getLogger("omnipostr")
    old_level = lg.level
    lg.addHandler(handler)
    lg.setLevel(logging.INFO)
    yield LogLines(buf)
    lg.removeHandler(handler)
    lg.setLevel(old_level)
