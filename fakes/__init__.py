"""Loopback stand-ins for the outside services OmniPostr talks to (tests and demos).

Each speaks the real protocol on 127.0.0.1, so the product's own client code runs against it
unchanged; only the base URL differs:

- ``fakes.anthropic_server``: Anthropic's Messages API (JSON and SSE streaming, prompt
  caching usage, latency and fault knobs, a request log).
- ``fakes.smtp_sink``: an SMTP server that keeps what it receives.
"""
