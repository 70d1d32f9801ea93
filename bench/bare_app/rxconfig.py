"""A bare Reflex app, built and served the way OmniPostr is (``reflex run --env prod
--single-port``, the same theme plugin, state kept in memory): the yardstick that
``bench/events.py`` measures the composer's events against."""

import reflex as rx

config = rx.Config(
    app_name="bare_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    state_manager_mode="memory",
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="iris", gray_color="slate", radius="large", has_background=True)
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
