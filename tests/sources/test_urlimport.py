"""Importing an article from a link: real HTTP against loopback servers, and the guard that
keeps links from reaching private or local addresses."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpcore
import pytest

from omnipostr.sources import ExtractError
from omnipostr.sources.urlimport import (
    NO_TEXT_MESSAGE,
    PRIVATE_MESSAGE,
    SCHEME_MESSAGE,
    UNREACHABLE_MESSAGE,
    USER_AGENT,
    PinnedNetwork,
    UrlImporter,
    check_host,
    import_url,
    is_public_address,
    parse_ip_host,
)
from tests.fixtures import source_files as files

PUBLIC_IP = "93.184.216.34"  # stands in for a public web server; routed to loopback below


# --- a loopback web server ----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: C901 - one route table
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        self.server.requests.append(
            {
                "path": self.path,
                "host": self.headers.get("Host"),
                "user_agent": self.headers.get("User-Agent"),
            }
        )
        html = "text/html; charset=utf-8"
        try:
            if path == "/article":
                self._send(200, files.article_html(), html)
            elif path == "/redirect":
                self._redirect("/article", 301)
            elif path.startswith("/chain/"):
                left = int(path.rsplit("/", 1)[1])
                self._redirect(f"/chain/{left - 1}" if left > 0 else "/article", 307)
            elif path == "/to":
                self._redirect(query["url"][0])
            elif path == "/big":
                self._send(200, b"<p>" + b"x" * 200_000 + b"</p>", html)
            elif path == "/big-unsized":  # no Content-Length: the body ends when we close
                self.send_response(200)
                self.send_header("Content-Type", html)
                self.end_headers()
                for _ in range(50):
                    self.wfile.write(b"<p>" + b"y" * 8192 + b"</p>")
                self.close_connection = True
            elif path == "/slow":
                self.server.release.wait(5)
                self._send(200, files.article_html(), html)
            elif path == "/drip":  # headers at once, then a byte every 0.1 s
                self.send_response(200)
                self.send_header("Content-Type", html)
                self.end_headers()
                for _ in range(50):
                    if self.server.release.wait(0.1):
                        break
                    self.wfile.write(b" ")
                    self.wfile.flush()
                self.close_connection = True
            elif path == "/missing":
                self._send(404, b"<h1>Not found</h1>", html)
            elif path == "/broken":
                self._send(503, b"down", "text/plain")
            elif path == "/image":
                self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
            elif path == "/data.json":
                self._send(200, b'{"a": 1}', "application/json")
            elif path == "/plain":
                body = "Crème brûlée notes.\n\nSecond line of the plain note.".encode("latin-1")
                self._send(200, body, "text/plain; charset=ISO-8859-1")
            elif path == "/notes.md":
                self._send(
                    200,
                    b"# Notes title\n\nSee [docs](https://example.org/d).\n",
                    "text/markdown; charset=utf-8",
                )
            elif path == "/files/report.pdf":
                self._send(200, files.article_pdf(), "application/pdf")
            elif path == "/download":
                self._send(200, files.article_docx(), "application/octet-stream")
            elif path == "/gzip":
                self._send(
                    200, gzip.compress(files.article_html()), html, {"Content-Encoding": "gzip"}
                )
            elif path == "/nav-only":
                self._send(
                    200,
                    b"<html><head><title>Nav</title><script>var x=1;</script>"
                    b"</head><body><script>track()</script></body></html>",
                    html,
                )
            elif path == "/no-location":
                self.send_response(302)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(404, b"", html)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.release = threading.Event()
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address) -> None:
        pass  # failed TLS handshakes are expected in the certificate test

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


def _serve(ssl_context: ssl.SSLContext | None = None):
    server = _Server(ssl_context)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def web():
    server, thread = _serve()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def server(web):
    web.requests.clear()
    return web


class FakeDNS:
    """An in-memory resolver: host -> list of answers (or a list of lists, one per call)."""

    def __init__(self, records: dict[str, list]) -> None:
        self.records = records
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.records:
            raise OSError(f"no such host: {host}")
        answers = self.records[host]
        if answers and isinstance(answers[0], list):
            return answers[min(len(self.calls_for(host)), len(answers)) - 1]
        return answers

    def calls_for(self, host: str) -> list[str]:
        return [h for h in self.calls if h == host]


class RoutedNetwork(httpcore.AsyncNetworkBackend):
    """Real TCP connections, but the 'public' test address is routed to the loopback
    server; every address the importer dials is recorded."""

    def __init__(self, routes: dict[str, int]) -> None:
        self.routes = routes
        self.dialled: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.dialled.append(host)
        if host not in self.routes:
            raise httpcore.ConnectError(f"no route to {host}")
        return await self._real.connect_tcp("127.0.0.1", self.routes[host], timeout=timeout)

    async def sleep(self, seconds):
        await self._real.sleep(seconds)


def _public_importer(server: _Server, dns: dict[str, list], **kw):
    """An importer that sees ``news.example`` as a public host (PUBLIC_IP), whose traffic
    the routed network delivers to the loopback server. The address guard is fully on."""
    network = RoutedNetwork({PUBLIC_IP: server.port})
    resolver = FakeDNS(dns)
    return UrlImporter(resolver=resolver, network=network, **kw), resolver, network


async def _import_error(url: str, **kw) -> str:
    with pytest.raises(ExtractError) as info:
        await import_url(url, **kw)
    return info.value.message


# --- importing pages over real HTTP -------------------------------------------------------


async def test_imports_article_text_without_scripts(server):
    result = await import_url(server.url("/article"), allow_private=True)
    assert result.kind == "html"
    assert result.title == files.ARTICLE_TITLE
    for paragraph in files.ARTICLE_PARAGRAPHS:
        assert paragraph in result.text
    for hidden in ("SECRET_SCRIPT_TOKEN", "INLINE_SCRIPT_TEXT", "STYLE_RULE_TEXT", "Pricing"):
        assert hidden not in result.text
    assert result.words > 40 and result.reading_minutes == 1
    [request] = server.requests
    assert request["user_agent"] == USER_AGENT == "OmniPostrBot/1.0 (+https://omnipostr.com/bot)"
    assert request["host"] == f"127.0.0.1:{server.port}"


async def test_follows_redirects(server):
    result = await import_url(server.url("/redirect"), allow_private=True)
    assert files.ARTICLE_PARAGRAPHS[0] in result.text
    assert server.paths() == ["/redirect", "/article"]


async def test_five_redirects_are_followed_six_are_not(server):
    result = await import_url(server.url("/chain/4"), allow_private=True)  # 5 redirects
    assert files.ARTICLE_PARAGRAPHS[0] in result.text
    server.requests.clear()
    message = await _import_error(server.url("/chain/5"), allow_private=True)
    assert message == "That link redirects too many times (more than 5)."
    assert len(server.requests) == 6  # the first request and five redirects, no more


async def test_too_big_by_content_length(server):
    message = await _import_error(server.url("/big"), allow_private=True, max_bytes=100_000)
    assert message == "This page is 195.3 KB; the limit is 97.7 KB."


async def test_too_big_while_streaming(server):
    message = await _import_error(
        server.url("/big-unsized"), allow_private=True, max_bytes=64 * 1024
    )
    assert message == "This page is over 64 KB, the limit."


async def test_slow_page_times_out(server):
    started = time.monotonic()
    message = await _import_error(server.url("/slow"), allow_private=True, timeout=0.3)
    assert message == "The page did not answer in 0.3 seconds."
    assert time.monotonic() - started < 2


async def test_trickling_page_times_out_overall(server):
    # every byte arrives well within the read timeout; the overall deadline still holds
    started = time.monotonic()
    message = await _import_error(server.url("/drip"), allow_private=True, timeout=0.5)
    assert message == "The page did not answer in 0.5 seconds."
    assert time.monotonic() - started < 2


def test_default_timeout_message():
    assert UrlImporter()._timeout_message() == "The page did not answer in 10 seconds."


@pytest.mark.parametrize(
    "path,message",
    [
        ("/missing", "That page was not found (HTTP 404)."),
        ("/broken", "That site had an error (HTTP 503). Try again later."),
        ("/no-location", "That page could not be loaded (HTTP 302)."),
    ],
)
async def test_error_statuses(server, path, message):
    assert await _import_error(server.url(path), allow_private=True) == message


@pytest.mark.parametrize(
    "path,media", [("/image", "image/png"), ("/data.json", "application/json")]
)
async def test_non_html_is_refused(server, path, media):
    message = await _import_error(server.url(path), allow_private=True)
    assert (
        message == f"That link leads to {media}, not a web page or a document OmniPostr can read."
    )


async def test_page_without_article_text(server):
    message = await _import_error(server.url("/nav-only"), allow_private=True)
    assert message == NO_TEXT_MESSAGE == "That page has no readable article text."


async def test_plain_text_markdown_pdf_docx_and_gzip(server):
    plain = await import_url(server.url("/plain"), allow_private=True)
    assert plain.kind == "txt"
    assert plain.text == "Crème brûlée notes.\n\nSecond line of the plain note."
    assert plain.warnings == []  # the declared charset was used
    md = await import_url(server.url("/notes.md"), allow_private=True)
    assert md.kind == "md" and md.title == "Notes title"
    assert "See [docs](https://example.org/d)." in md.text  # Markdown is kept as written
    pdf = await import_url(server.url("/files/report.pdf"), allow_private=True)
    assert pdf.kind == "pdf" and "workflow" in pdf.text
    docx = await import_url(server.url("/download"), allow_private=True)
    assert docx.kind == "docx" and "1. Paste the article" in docx.text
    zipped = await import_url(server.url("/gzip"), allow_private=True)
    assert files.ARTICLE_PARAGRAPHS[1] in zipped.text


async def test_refused_connection_is_unreachable(web):
    closed = _Server()  # bind a port, then close it: nothing listens there
    port = closed.port
    closed.server_close()
    message = await _import_error(f"http://127.0.0.1:{port}/", allow_private=True)
    assert message == UNREACHABLE_MESSAGE == "That address could not be reached."


async def test_unresolvable_name_is_unreachable():
    importer = UrlImporter(resolver=FakeDNS({}))
    with pytest.raises(ExtractError) as info:
        await importer.fetch("https://no-such-host.example/post")
    assert info.value.message == UNREACHABLE_MESSAGE


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file.txt",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        "gopher://example.com/",
        "mailto:someone@example.com",
    ],
)
async def test_only_http_and_https(url):
    assert (
        await _import_error(url) == SCHEME_MESSAGE == ("Only http and https links can be imported.")
    )


async def test_links_with_credentials_are_refused():
    message = await _import_error("https://user:pass@example.com/post")
    assert message == "Links with a user name or password cannot be imported."


# --- the address guard --------------------------------------------------------------------


@pytest.mark.parametrize(
    "host,expected",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("10.0.0.1.", "10.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("example.com", None),
        ("1.example", None),
        ("xn--exmple-cua.com", None),
    ],
)
def test_parse_ip_host(host, expected):
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    "host", ["256.0.0.1", "1.2.3.4.5", "0x1g.0.0.1", "08.0.0.1", "4294967296", "%31%32%37.0.0.1"]
)
def test_numeric_hosts_that_are_not_addresses(host):
    with pytest.raises(ExtractError) as info:
        parse_ip_host(host)
    assert info.value.message == UNREACHABLE_MESSAGE


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.0.8",
        "198.18.0.1",
        "192.0.2.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2001:db8::1",
        "2001::1",
    ],
)
def test_private_and_special_addresses_are_not_public(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",
        "2002:5db8:d822::1",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/article",
        "http://10.0.0.8/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/article",
        "http://[::ffff:127.0.0.1]:{port}/article",
        "http://0x7f000001:{port}/article",
        "http://2130706433:{port}/article",
        "http://0177.0.0.1:{port}/article",
        "http://127.1:{port}/article",
        "http://0.0.0.0:{port}/article",
        "http://localhost:{port}/article",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "127.0.0.1:{port}/article",
        "http://%31%32%37.0.0.1:{port}/article",
        "http://%6c%6f%63%61%6c%68%6f%73%74:{port}/article",
        "http://127.0.0.%31/",
    ],
)
async def test_private_urls_are_refused_before_connecting(server, url):
    message = await _import_error(url.format(port=server.port), timeout=2)
    assert (
        message
        == PRIVATE_MESSAGE
        == ("OmniPostr does not fetch private or local network addresses.")
    )
    assert server.requests == []


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], ["::1"], ["10.0.0.7"], [PUBLIC_IP, "192.168.0.10"], ["::ffff:10.0.0.1"]],
)
async def test_names_resolving_to_private_addresses_are_refused(answers):
    dns = FakeDNS({"evil.example": answers})
    with pytest.raises(ExtractError) as info:
        await check_host("evil.example", 80, resolver=dns)
    assert info.value.message == PRIVATE_MESSAGE
    assert [
        str(ip) for ip in await check_host("evil.example", 80, resolver=dns, allow_private=True)
    ]


async def test_check_host_returns_the_addresses_to_dial():
    dns = FakeDNS({"news.example": [PUBLIC_IP, "2606:4700::1", PUBLIC_IP]})
    addresses = await check_host("news.example", 443, resolver=dns)
    assert [str(a) for a in addresses] == [PUBLIC_IP, "2606:4700::1"]
    assert [str(a) for a in await check_host("0x5db8d822", 80)] == [PUBLIC_IP]


async def test_public_host_is_fetched_through_the_pinned_address(server):
    importer, dns, network = _public_importer(server, {"news.example": [PUBLIC_IP]})
    result = await importer.fetch("http://news.example/redirect")
    assert files.ARTICLE_PARAGRAPHS[0] in result.text
    assert set(network.dialled) == {PUBLIC_IP}  # only ever the vetted address
    assert dns.calls == ["news.example"]
    assert [r["host"] for r in server.requests] == ["news.example", "news.example"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/article",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/article",
        "http://0x7f000001:{port}/article",
        "http://intranet.example:{port}/article",
        "http://localhost:{port}/article",
    ],
)
async def test_redirect_from_public_to_private_is_refused(server, target):
    dns = {"news.example": [PUBLIC_IP], "intranet.example": ["10.0.0.5"]}
    importer, _, network = _public_importer(server, dns)
    target = target.format(port=server.port)
    with pytest.raises(ExtractError) as info:
        await importer.fetch(f"http://news.example/to?url={target}")
    assert info.value.message == PRIVATE_MESSAGE
    assert server.paths() == [f"/to?url={target}"]  # the private target was never requested
    assert network.dialled == [PUBLIC_IP]


async def test_redirect_to_another_scheme_is_refused(server):
    importer, _, _ = _public_importer(server, {"news.example": [PUBLIC_IP]})
    with pytest.raises(ExtractError) as info:
        await importer.fetch("http://news.example/to?url=file:///etc/passwd")
    assert info.value.message == SCHEME_MESSAGE


async def test_dns_rebinding_cannot_switch_the_address(server):
    # the first answer is public, every later one loopback: the host is resolved once and
    # each connection goes to the address that was checked
    dns = {"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]}
    importer, resolver, network = _public_importer(server, dns)
    result = await importer.fetch("http://rebind.example/chain/2")
    assert files.ARTICLE_PARAGRAPHS[0] in result.text
    assert resolver.calls == ["rebind.example"]
    assert set(network.dialled) == {PUBLIC_IP}
    assert len(server.requests) == 4


async def test_pinned_network_refuses_hosts_it_was_not_given():
    network = PinnedNetwork({"news.example": [ipaddress.ip_address(PUBLIC_IP)]})
    with pytest.raises(httpcore.ConnectError):
        await network.connect_tcp("other.example", 80)
    with pytest.raises(httpcore.ConnectError):
        await network.connect_unix_socket("/var/run/docker.sock")


async def test_allow_private_still_pins_names_to_the_checked_address(server):
    # the name exists only in the injected resolver: the system resolver is never asked
    importer = UrlImporter(
        allow_private=True, resolver=FakeDNS({"blog.test": ["10.255.0.1", "127.0.0.1"]})
    )
    result = await importer.fetch(server.url("/article", host="blog.test"))
    assert result.title == files.ARTICLE_TITLE
    assert server.requests[0]["host"] == f"blog.test:{server.port}"


# --- HTTPS: the certificate is checked against the name, not the pinned address ---------------


def _self_signed(host: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture(scope="module")
def tls_web(tmp_path_factory):
    cert_pem, key_pem = _self_signed("secure.example")
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server, thread = _serve(server_ctx)
    client_ctx = ssl.create_default_context(cadata=cert_pem.decode())
    yield server, client_ctx
    server.shutdown()
    server.server_close()
    thread.join(5)


async def test_https_uses_the_host_name_for_sni_and_certificate(tls_web):
    server, client_ctx = tls_web
    dns = FakeDNS({"secure.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    importer = UrlImporter(allow_private=True, resolver=dns, ssl_context=client_ctx)
    result = await importer.fetch(server.url("/article", host="secure.example", scheme="https"))
    assert result.title == files.ARTICLE_TITLE
    # same pinned address, but the certificate does not name other.example
    with pytest.raises(ExtractError) as info:
        await importer.fetch(server.url("/article", host="other.example", scheme="https"))
    assert info.value.message == (
        "That site's secure connection (HTTPS certificate) could not be verified."
    )
