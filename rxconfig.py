"""Reflex configuration, derived from OmniPostr's settings (see omnipostr/settings.py)."""

import os

import reflex as rx

from omnipostr.settings import get_settings

_s = get_settings()

if _s.redis_url:
    # Several processes: the process that serves a page keeps the page's state and its lock
    # for a few seconds at a time while events and pushes keep coming (Reflex's opportunistic
    # lock), instead of reading, unsealing, sealing and writing the state in Redis for each of
    # them (five pushes a second while a generation streams); it writes the state back at the
    # end of that time (5 s, half the lock's expiry), or at once when another process asks for
    # it (a reload served elsewhere). A web process that dies loses at most those seconds of
    # page state; stored posts are in the database. REFLEX_OPLOCK_ENABLED=false turns it off,
    # REFLEX_OPLOCK_HOLD_TIME sets the time (1 s measured worse here: longest silence 194 to
    # 281 ms against 106 to 161 ms with 10 users generating).
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")

config = rx.Config(
    app_name="omnipostr",
    db_url=_s.db_url,
    cors_allowed_origins=_s.cors_origins,
    api_url=_s.api_url,
    deploy_url=_s.base_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    trusted_proxy_hops=_s.trusted_proxy_hops,
    # One process keeps the pages' state in memory: nothing is written to disk. Several
    # processes share it through Redis (REFLEX_REDIS_URL), where our states are sealed with
    # the content key (accounts.state.AppState). Never Reflex's default, a folder of pickles.
    state_manager_mode="redis" if _s.redis_url else "memory",
    redis_url=_s.redis_url or None,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="iris", gray_color="slate", radius="large", has_background=True)
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
