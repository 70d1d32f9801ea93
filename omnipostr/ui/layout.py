"""The app shell (sidebar, workspace switcher, user menu) and the public page frame."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from omnipostr.accounts.state import SessionState, post_form
from omnipostr.privacy.banner import cookie_banner, cookie_settings_link, policy_update
from omnipostr.ui.components import focus_by_id, link_button


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    icon: str
    admin_only: bool = False


# Only pages that work are listed; a capability adds its page here when it lands.
NAV: list[NavItem] = [
    NavItem("Compose", "/app", "pen-line"),
    NavItem("Settings", "/settings/profile", "settings"),
]


def register_nav(item: NavItem, *, before: str | None = None) -> None:
    if any(n.href == item.href for n in NAV):
        return
    idx = next((i for i, n in enumerate(NAV) if n.label == before), len(NAV))
    NAV.insert(idx, item)


def logo(size: str = "5") -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.box(rx.icon("sparkles", size=18, color="white"), class_name="op-logo-mark"),
            # the wordmark, not a heading: each page's own title is its one h1
            rx.text("OmniPostr", size=size, weight="bold", as_="span", class_name="op-wordmark"),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        color="inherit",
        aria_label="OmniPostr home",
    )


def _nav_link(item: NavItem) -> rx.Component:
    path = rx.State.router.url.path
    section = "/" + item.href.strip("/").split("/")[0]
    # the router's path may carry a trailing slash (/app/?welcome=1)
    active = ((path == item.href) | (path == item.href + "/")) if section == "/app" else path.startswith(section)
    return rx.link(
        rx.hstack(rx.icon(item.icon, size=18), rx.text(item.label, size="3"), align="center", spacing="3"),
        href=item.href,
        underline="none",
        class_name=rx.cond(active, "op-nav-link op-nav-active", "op-nav-link"),
        aria_current=rx.cond(active, "page", "false"),
    )


def workspace_switcher() -> rx.Component:
    return rx.vstack(
        rx.el.label("Workspace", html_for="workspace-switcher", class_name="op-label op-small"),
        rx.select.root(
            # the trigger shows the name from the state itself: the selected item's text can
            # lag behind a rename (the id it is selected by does not change)
            rx.select.trigger(SessionState.workspace_name, id="workspace-switcher", width="100%", aria_label="Workspace"),
            rx.select.content(
                rx.foreach(
                    SessionState.workspaces,
                    lambda w: rx.select.item(w["name"], value=w["id"]),
                )
            ),
            value=SessionState.workspace_id.to_string(),
            on_change=SessionState.switch_workspace,
            size="2",
        ),
        spacing="1",
        width="100%",
    )


def theme_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon", size=16), dark=rx.icon("sun", size=16)),
        on_click=rx.toggle_color_mode,
        variant="ghost",
        color_scheme="gray",
        aria_label="Switch light or dark theme",
    )


def sign_out_button(label: str = "Sign out") -> rx.Component:
    """Signs out with a real POST: the server clears the HttpOnly cookie and the page reloads."""
    return rx.button(
        rx.icon("log-out", size=16),
        label,
        on_click=post_form("/auth/logout"),
        variant="ghost",
        color_scheme="gray",
        size="2",
    )


def user_menu() -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=SessionState.user_initials, size="2", radius="full", color_scheme="iris"),
        rx.vstack(
            rx.text(SessionState.user_name, size="2", weight="medium", class_name="op-ellipsis"),
            rx.text(SessionState.user_email, size="1", color_scheme="gray", class_name="op-ellipsis"),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        theme_toggle(),
        align="center",
        spacing="2",
        width="100%",
    )


def _nav_items() -> list[rx.Component]:
    items = []
    for item in NAV:
        link = _nav_link(item)
        items.append(rx.cond(SessionState.is_admin, link) if item.admin_only else link)
    return items


def sidebar_content() -> rx.Component:
    return rx.vstack(
        logo(),
        workspace_switcher(),
        rx.el.nav(rx.vstack(*_nav_items(), spacing="1", width="100%", align="stretch"), aria_label="Main", width="100%"),
        rx.spacer(),
        rx.separator(),
        user_menu(),
        rx.hstack(sign_out_button(), rx.spacer(), cookie_settings_link(), align="center", width="100%"),
        spacing="5",
        height="100%",
        width="100%",
        align="stretch",
    )


# A page reached through a link in the app takes the focus on its h1 (the browser does so
# itself for the first page it loads, where Tab meets the skip link first), unless something
# on it has the focus already. The h1 may come a moment after the page mounts.
FOCUS_TITLE = rx.call_script(
    "(function(){if(!window.__opPageSeen){window.__opPageSeen=true;return;}var n=0;function f(){var h=document.querySelector('main h1');"
    "if(h){var a=document.activeElement;if(!a||a===document.body){h.setAttribute('tabindex','-1');"
    "h.focus({preventScroll:true});}return;}if(++n<40)setTimeout(f,50);}f();})()"
)


def skip_link() -> rx.Component:
    """The first stop of the keyboard: past the header and the navigation, to the content."""
    return rx.el.a(
        "Skip to content", href="#main", class_name="op-skip", on_click=rx.set_focus("main").prevent_default
    )


def app_layout(*children: rx.Component) -> rx.Component:
    return rx.box(
        skip_link(),
        rx.el.header(sidebar_content(), class_name="op-sidebar"),
        rx.el.header(
            logo("4"),
            rx.spacer(),
            rx.drawer.root(
                rx.drawer.trigger(
                    rx.icon_button(rx.icon("menu"), variant="soft", aria_label="Open menu", id="menu-open")
                ),
                rx.drawer.overlay(),
                rx.drawer.portal(
                    rx.drawer.content(
                        rx.drawer.title("Menu", class_name="sr-only"),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x", size=18), variant="ghost", color_scheme="gray", aria_label="Close menu",
                                           id="menu-close"),
                            class_name="op-drawer-close",
                        ),
                        rx.box(sidebar_content(), padding="1.25em", height="100%", width="100%"),
                        class_name="op-drawer",
                    )
                ),
                direction="left",
                # the open menu takes the focus (it is a dialog); closed, the focus goes back
                on_open_change=lambda open_: rx.call_script(
                    focus_by_id(rx.cond(open_, "menu-close", "menu-open").to(str))
                ),
            ),
            class_name="op-topbar",
        ),
        rx.el.main(
            rx.cond(
                SessionState.signed_in,
                rx.box(policy_update(), *children, class_name="op-content"),
                rx.center(rx.spinner(size="3"), height="60vh", aria_label="Loading"),
            ),
            class_name="op-main",
            id="main",
            tab_index=-1,
            on_mount=FOCUS_TITLE,
        ),
        cookie_banner(),
        class_name="op-app",
    )


def public_layout(*children: rx.Component, narrow: bool = False) -> rx.Component:
    return rx.box(
        skip_link(),
        rx.el.header(
            logo(),
            rx.spacer(),
            rx.hstack(
                # on a phone the footer's link is enough: the header keeps to one line
                rx.link("Pricing", href="/pricing", color_scheme="gray", size="2", class_name="op-wide-only"),
                rx.link("Privacy", href="/privacy", color_scheme="gray", size="2", class_name="op-wide-only"),
                rx.cond(
                    SessionState.signed_in,
                    link_button("Open app", size=rx.breakpoints(initial="1", sm="2"), href="/app"),
                    rx.hstack(
                        link_button("Sign in", variant="soft", size=rx.breakpoints(initial="1", sm="2"), href="/login"),
                        link_button("Get started", size=rx.breakpoints(initial="1", sm="2"), href="/signup"),
                        spacing="2",
                    ),
                ),
                theme_toggle(),
                spacing=rx.breakpoints(initial="2", sm="4"),
                align="center",
            ),
            class_name="op-public-header",
        ),
        rx.el.main(
            rx.box(*children, class_name="op-narrow" if narrow else "op-wide"),
            class_name="op-public-main",
            id="main",
            tab_index=-1,
            on_mount=FOCUS_TITLE,
        ),
        rx.el.footer(
            rx.hstack(
                rx.text("© 2026 OmniPostr", size="1", color_scheme="gray"),
                rx.link("Pricing", href="/pricing", size="1", color_scheme="gray"),
                rx.link("Privacy policy", href="/privacy", size="1", color_scheme="gray"),
                rx.link("Your privacy center", href="/settings/privacy", size="1", color_scheme="gray"),
                rx.link("Service providers", href="/subprocessors", size="1", color_scheme="gray"),
                rx.link("Contact", href="/contact", size="1", color_scheme="gray"),
                cookie_settings_link(),
                spacing="4",
                wrap="wrap",
                justify="center",
            ),
            class_name="op-footer",
        ),
        cookie_banner(),
        class_name="op-public",
    )


def auth_card(title: str | rx.Var, subtitle: str, *children: rx.Component) -> rx.Component:
    return public_layout(
        rx.card(
            rx.vstack(
                rx.heading(title, size="6", as_="h1"),
                rx.text(subtitle, color_scheme="gray") if subtitle else rx.fragment(),
                *children,
                spacing="4",
                width="100%",
                align="stretch",
            ),
            size=rx.breakpoints(initial="3", sm="4"),
            width="100%",
        ),
        narrow=True,
    )
