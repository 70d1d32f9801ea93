"""A browser for HTTP tests of the auth routes: one cookie jar for our origin (served in
process through ASGI) and a real HTTP client for every other site (the loopback sign-in
provider), so a redirect chain runs the way a browser runs it."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie
from urllib.parse import urljoin, urlsplit

import httpx
from starlette.applications import Starlette

from omnipostr.accounts import routes as account_routes
from omnipostr.http_security import security_headers

ORIGIN = "http://localhost:3000"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def build_app():
    """The auth routes as the app mounts them (settings are read when this is called)."""
    return security_headers(Starlette(routes=account_routes.routes))


def set_cookie(response: httpx.Response, name: str) -> Morsel | None:
    """The Set-Cookie for ``name`` in a response, parsed (attributes in ``morsel[...]``)."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    return None


def raw_set_cookie(response: httpx.Response, name: str) -> str:
    return next((h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")), "")


class Browser:
    def __init__(self, app, origin: str = ORIGIN, user_agent: str = USER_AGENT, ip: str = "203.0.113.7"):
        self.origin = origin
        self.ours = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(ip, 51000)),
            base_url=origin,
            headers={"user-agent": user_agent},
        )
        self.web = httpx.AsyncClient(headers={"user-agent": user_agent}, timeout=10.0)

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ours.aclose()
        await self.web.aclose()

    def is_ours(self, url: str) -> bool:
        parts = urlsplit(url)
        return not parts.netloc or f"{parts.scheme}://{parts.netloc}" == self.origin

    async def get(self, url: str) -> httpx.Response:
        if self.is_ours(url):
            parts = urlsplit(url)
            return await self.ours.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        return await self.web.get(url)

    async def post_form(self, path: str, data: dict, *, origin: str | None = "same") -> httpx.Response:
        """A form POST from one of our pages (``origin="same"``), from another site, or with
        no Origin header at all (``None``)."""
        headers = {}
        if origin == "same":
            headers["origin"] = self.origin
        elif origin is not None:
            headers["origin"] = origin
        return await self.ours.post(path, data=data, headers=headers)

    async def navigate(self, url: str, *, max_hops: int = 8) -> list[httpx.Response]:
        """Open ``url`` and follow redirects until a page of ours that is not an /auth/ route
        (those pages live in the Reflex app, not in these routes). Returns every response."""
        chain: list[httpx.Response] = []
        for _ in range(max_hops):
            r = await self.get(url)
            chain.append(r)
            if not r.is_redirect:
                return chain
            url = urljoin(str(r.request.url), r.headers["location"])
            if self.is_ours(url) and not urlsplit(url).path.startswith("/auth/"):
                return chain
        raise AssertionError(f"too many redirects: {[str(r.request.url) for r in chain]}")

    @property
    def session_cookie(self) -> str | None:
        return self.ours.cookies.get(account_routes.cookie_name())
