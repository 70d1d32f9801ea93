"""Reflex configuration, derived from OmniPostr's settings (see omnipostr/settings.py)."""

import reflex as rx

from omnipostr.settings import get_settings

_s = get_settings()

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
