from tests.notify.conftest import sink, smtp  # noqa: F401 - the SMTP sink and the real transport pointed at it
