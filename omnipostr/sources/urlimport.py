"""Importing an article from a link the user pastes into the composer.

``import_url`` downloads one page (or a PDF/Word file) and returns the same ``Extracted``
value as a file upload. Because the server makes the request, a link must not become a way
to reach our own network (server-side request forgery). The rules:

* Only ``http`` and ``https`` links. No user name or password in the link.
* The host is checked before any connection: ``localhost`` and ``*.localhost`` are refused by
  name; a numeric host is parsed the way ``inet_aton`` does (``2130706433``, ``0x7f000001``,
  ``0177.0.0.1`` and ``127.1`` all mean 127.0.0.1); any other name is resolved and *every*
  address it resolves to must be public. Refused: private, loopback, link-local, multicast,
  reserved, unspecified, shared (CGNAT) and site-local ranges, in IPv4 and IPv6, including
  IPv4 addresses embedded in IPv6 (IPv4-mapped ``::ffff:a.b.c.d``, 6to4, NAT64).
* DNS rebinding is prevented by pinning: each host is resolved once per import, and the
  connection goes to exactly the addresses that passed the check. ``PinnedNetwork`` is the
  httpcore network backend under our httpx transport: httpcore asks it to open a TCP
  connection to ``host:port`` and it connects to the vetted IP instead, refusing any host
  it was not given. The request itself is unchanged, so the ``Host`` header, TLS SNI and
  certificate verification all use the real host name. Environment proxies are ignored
  (a proxy would make its own DNS lookup).
* Redirects are followed by hand, at most ``MAX_REDIRECTS``, and each target goes through
  the same checks before it is requested.
* The whole download (DNS, redirects, body) must finish within ``timeout`` seconds; the
  size limit is enforced on the decoded bytes while streaming, before the body is kept.
* The content type must be HTML, plain text or Markdown (the main text is extracted with
  trafilatura), or PDF/DOCX (read like an uploaded file).

``allow_private`` lifts the address check (the pinning stays) for test servers on
loopback; callers pass ``get_settings().allow_private_urls``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from contextlib import contextmanager
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from omnipostr.sources.errors import (
    DEFAULT_MAX_CHARS,
    Extracted,
    ExtractError,
    human_size,
    size_error,
)
from omnipostr.sources.files import SUPPORTED_EXTENSIONS, extract_bytes

__all__ = [
    "MAX_REDIRECTS",
    "USER_AGENT",
    "PinnedNetwork",
    "Resolver",
    "UrlImporter",
    "check_host",
    "import_url",
    "is_public_address",
    "parse_ip_host",
    "system_resolver",
]

USER_AGENT = "OmniPostrBot/1.0 (+https://omnipostr.com/bot)"
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``await resolver(host, port)`` -> the host's IP addresses as strings."""

PRIVATE_MESSAGE = "OmniPostr does not fetch private or local network addresses."
UNREACHABLE_MESSAGE = "That address could not be reached."
SCHEME_MESSAGE = "Only http and https links can be imported."
NO_TEXT_MESSAGE = "That page has no readable article text."

_HTML_TYPES = {"text/html": "html", "application/xhtml+xml": "html"}
_TEXT_TYPES = {"text/plain": "txt", "text/markdown": "md", "text/x-markdown": "md"}
_FILE_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_UNLABELLED = {"", "application/octet-stream", "binary/octet-stream"}
_ACCEPT = (
    "text/html,application/xhtml+xml;q=0.9,text/markdown;q=0.8,text/plain;q=0.7,"
    "application/pdf;q=0.6,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document;q=0.6,*/*;q=0.1"
)

# Ranges refused on top of what ``ipaddress`` flags as non-global.
_EXTRA_BLOCKED = [
    ipaddress.ip_network("100.64.0.0/10"),  # shared address space (carrier-grade NAT)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("fec0::/10"),  # deprecated site-local
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.ip_network("2001::/32"),  # Teredo
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# ---------------------------------------------------------------------------------------------
# Address checks
# ---------------------------------------------------------------------------------------------


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address that is none of private,
    loopback, link-local, multicast, reserved, unspecified or shared; IPv4 addresses
    embedded in IPv6 are judged as the IPv4 address they carry."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)


_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.I)


def parse_ip_host(host: str) -> IPAddress | None:
    """The IP address a URL host names literally, or None for a host name.

    IPv6 literals may come with or without brackets. IPv4 is parsed as ``inet_aton`` and
    browsers do: one to four parts, each decimal, octal (leading 0) or hex (0x), the last
    part filling the remaining bytes. A host whose last label is numeric but is not a
    valid address raises ``ExtractError`` (it cannot be a host name either)."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(unquote(host))
        except ValueError as exc:
            raise ExtractError(UNREACHABLE_MESSAGE) from exc
    labels = host.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:
        labels.pop()  # a trailing dot
    if not labels or not _NUMERIC_LABEL.match(labels[-1]):
        return None
    if len(labels) > 4:
        raise ExtractError(UNREACHABLE_MESSAGE)
    numbers: list[int] = []
    for label in labels:
        try:
            if label[:2] == "0x":
                numbers.append(int(label[2:] or "0", 16))
            elif len(label) > 1 and label.startswith("0"):
                numbers.append(int(label[1:], 8))
            else:
                numbers.append(int(label, 10))
        except ValueError as exc:
            raise ExtractError(UNREACHABLE_MESSAGE) from exc
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        raise ExtractError(UNREACHABLE_MESSAGE)
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), run off the event loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _is_localhost_name(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


async def check_host(
    host: str,
    port: int,
    *,
    allow_private: bool = False,
    resolver: Resolver | None = None,
) -> list[IPAddress]:
    """The addresses a connection to ``host`` may use, in the resolver's order. Raises
    ``ExtractError`` when the host is local or private (unless ``allow_private``) or does
    not resolve."""
    literal = parse_ip_host(host)
    if literal is not None:
        addresses = [literal]
    else:
        if not allow_private and _is_localhost_name(host):
            raise ExtractError(PRIVATE_MESSAGE)
        try:
            answers = await (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise ExtractError(UNREACHABLE_MESSAGE) from exc
        addresses = []
        for answer in answers:
            try:
                ip = ipaddress.ip_address(str(answer).split("%", 1)[0])
            except ValueError:
                continue
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise ExtractError(UNREACHABLE_MESSAGE)
    if not allow_private and not all(is_public_address(ip) for ip in addresses):
        # one private answer is enough to refuse: the resolver could hand it out next
        raise ExtractError(PRIVATE_MESSAGE)
    return [_dialable(ip) for ip in addresses]


def _dialable(ip: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 answer is dialled as the plain IPv4 address it carries."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


# ---------------------------------------------------------------------------------------------
# Pinned connections
# ---------------------------------------------------------------------------------------------


class PinnedNetwork(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to vetted addresses.

    ``pins`` maps a URL host (as httpx sends it to httpcore: lower-case, IDNA-encoded,
    IPv6 without brackets) to the addresses ``check_host`` approved; ``connect_tcp`` dials
    those addresses in order and never resolves a name itself. ``inner`` is the backend
    that opens sockets (httpcore's AnyIO backend by default)."""

    def __init__(
        self,
        pins: dict[str, list[IPAddress]] | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.pins: dict[str, list[IPAddress]] = pins if pins is not None else {}
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self.pins.get(host.lower())
        if not addresses:
            raise httpcore.ConnectError(f"host {host!r} was not checked before connecting")
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not used for imports")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_ERROR_MAP: list[tuple[type[Exception], type[httpx.TransportError]]] = [
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
]


@contextmanager
def _httpx_errors():
    try:
        yield
    except Exception as exc:
        for core, mapped in _ERROR_MAP:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream) -> None:
        self._stream = stream

    async def __aiter__(self):
        with _httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class _PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool whose network backend is ``PinnedNetwork``
    (httpx's own transport does not take a network backend)."""

    def __init__(self, network: PinnedNetwork, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            http1=True,
            http2=False,
            retries=0,
            network_backend=network,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


# ---------------------------------------------------------------------------------------------
# The importer
# ---------------------------------------------------------------------------------------------


def _split_checked(url: str, *, allow_private: bool) -> tuple[httpx.URL, str, int]:
    """Validate a link's form: scheme, no credentials, a host; returns the httpx URL, the
    host as the connection will use it, and the port."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ExtractError(SCHEME_MESSAGE)
        if parts.username is not None or parts.password is not None:
            raise ExtractError("Links with a user name or password cannot be imported.")
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:  # a bad port or bracketed host
        raise ExtractError("That link is not a valid web address.") from exc
    if not host:
        raise ExtractError("That link is not a valid web address.")
    if "%" in host:
        # a browser decodes a host before anything else (%31%32%37.0.0.1 is 127.0.0.1):
        # judge, and connect to, the decoded one
        host = unquote(host).lower()
        if not host or any(c in host for c in "/\\@%:?#") and not host.startswith("["):
            raise ExtractError("That link is not a valid web address.")
        netloc = host + (f":{port}" if port else "")
        url = urlunsplit(parts._replace(netloc=netloc))
    # numeric hosts are judged before httpx sees them: it rejects some (octal) forms
    literal = parse_ip_host(host)
    if literal is not None and not allow_private and not is_public_address(literal):
        raise ExtractError(PRIVATE_MESSAGE)
    if not allow_private and _is_localhost_name(host):
        raise ExtractError(PRIVATE_MESSAGE)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ExtractError("That link is not a valid web address.") from exc
    raw_host = parsed.raw_host.decode("ascii").lower()
    return parsed.copy_with(fragment=None), raw_host, port or (443 if scheme == "https" else 80)


def _media_type(content_type: str) -> tuple[str, str | None]:
    media, _, params = content_type.partition(";")
    charset = None
    m = re.search(r"""charset\s*=\s*["']?([^"';\s]+)""", params, re.I)
    if m:
        charset = m.group(1)
    return media.strip().lower(), charset


def _status_message(status: int) -> str:
    if status in (404, 410):
        return f"That page was not found (HTTP {status})."
    if status in (401, 403, 407):
        return f"That page is private or needs a login (HTTP {status})."
    if status == 429:
        return "That site is limiting requests right now (HTTP 429). Try again later."
    if status >= 500:
        return f"That site had an error (HTTP {status}). Try again later."
    return f"That page could not be loaded (HTTP {status})."


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class UrlImporter:
    """One configured importer. ``resolver`` answers DNS questions (the system resolver by
    default), ``network`` opens TCP connections to vetted addresses (real sockets by
    default), ``ssl_context`` verifies HTTPS (the certifi bundle by default)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_chars: int = DEFAULT_MAX_CHARS,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_chars = max_chars
        self.resolver = resolver or system_resolver
        self.network = network
        self.ssl_context = ssl_context

    def _timeout_message(self) -> str:
        return f"The page did not answer in {self.timeout:g} seconds."

    async def fetch(self, url: str) -> Extracted:
        url = (url or "").strip()
        if not url:
            raise ExtractError("Paste a link to import.")
        if "://" not in url and not re.match(r"^[a-z][a-z0-9+.\-]*:(?!\d)", url, re.I):
            url = "https://" + url  # "example.com/post" means the https page
        pinned = PinnedNetwork(inner=self.network)
        transport = _PinnedTransport(pinned, self.ssl_context or httpx.create_ssl_context())
        client = httpx.AsyncClient(
            transport=transport,
            trust_env=False,  # no proxies from the environment: they would resolve names
            follow_redirects=False,
            timeout=httpx.Timeout(self.timeout),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": _ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
        )
        try:
            async with client, asyncio.timeout(self.timeout):
                final_url, media, charset, body = await self._download(client, pinned, url)
        except TimeoutError as exc:
            raise ExtractError(self._timeout_message()) from exc
        except httpx.TimeoutException as exc:
            raise ExtractError(self._timeout_message()) from exc
        except httpx.TransportError as exc:
            if _is_tls_failure(exc):
                raise ExtractError(
                    "That site's secure connection (HTTPS certificate) could not be verified."
                ) from exc
            raise ExtractError(UNREACHABLE_MESSAGE) from exc
        return await asyncio.to_thread(self._extract, final_url, media, charset, body)

    async def _download(
        self, client: httpx.AsyncClient, pinned: PinnedNetwork, url: str
    ) -> tuple[str, str, str | None, bytes]:
        for _hop in range(MAX_REDIRECTS + 1):
            parsed, raw_host, port = _split_checked(url, allow_private=self.allow_private)
            if raw_host not in pinned.pins:
                pinned.pins[raw_host] = await check_host(
                    raw_host, port, allow_private=self.allow_private, resolver=self.resolver
                )
            async with client.stream("GET", parsed) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "").strip()
                    if not location:
                        raise ExtractError(_status_message(response.status_code))
                    url = urljoin(str(parsed), location)
                    continue
                if not 200 <= response.status_code < 300:
                    raise ExtractError(_status_message(response.status_code))
                media, charset = _media_type(response.headers.get("content-type", ""))
                if not (
                    media in _HTML_TYPES
                    or media in _TEXT_TYPES
                    or media in _FILE_TYPES
                    or media in _UNLABELLED
                ):
                    raise ExtractError(
                        f"That link leads to {media}, not a web page or a document "
                        "OmniPostr can read."
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise size_error(int(declared), self.max_bytes, "This page")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise ExtractError(
                            f"This page is over {human_size(self.max_bytes)}, the limit."
                        )
                return str(parsed), media, charset, bytes(body)
        raise ExtractError(f"That link redirects too many times (more than {MAX_REDIRECTS}).")

    def _extract(self, url: str, media: str, charset: str | None, body: bytes) -> Extracted:
        if not body.strip():
            raise ExtractError(NO_TEXT_MESSAGE)
        name = PurePosixPath(unquote(urlsplit(url).path)).name
        if PurePosixPath(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            name = ""  # let the content decide
        expected = _HTML_TYPES.get(media) or _TEXT_TYPES.get(media) or _FILE_TYPES.get(media)
        try:
            result = extract_bytes(
                name,
                body,
                max_bytes=self.max_bytes,
                max_chars=self.max_chars,
                charset=charset,
                expected=expected,
                page_url=url,
                html_fallback=False,
            )
        except ExtractError as exc:
            if exc.message in ("This file is empty.", "This page has no readable text."):
                raise ExtractError(NO_TEXT_MESSAGE) from exc
            raise ExtractError(exc.message.replace("This file", "This page")) from exc
        if result.title == "Untitled" or not result.title:
            result.title = urlsplit(url).hostname or result.title
        return result


async def import_url(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Extracted:
    """Download ``url`` and extract its main text (see the module docstring for the rules).
    Raises ``ExtractError`` with a message for the user."""
    importer = UrlImporter(
        allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, max_chars=max_chars
    )
    return await importer.fetch(url)
