"""Settings: profile, security (password and active sessions), workspace (members, invites)."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.settings_state import ProfileState, SecurityState, WorkspaceState
from omnipostr.accounts.state import SessionState
from omnipostr.ui.components import (
    checkbox_field,
    confirm_dialog,
    field,
    form_notice,
    link_button,
    page_header,
    section,
    submit_button,
)
from omnipostr.ui.layout import app_layout

TABS = [("Profile", "/settings/profile"), ("Security", "/settings/security"), ("Workspace", "/settings/workspace")]
_extra_tabs: list[tuple[str, str]] = []


def register_settings_tab(label: str, href: str) -> None:
    if (label, href) not in _extra_tabs:
        _extra_tabs.append((label, href))


def _tabs(current: str) -> rx.Component:
    return rx.el.nav(_tab_links(current), aria_label="Settings sections")


def _tab_links(current: str) -> rx.Component:
    return rx.hstack(
        *[
            link_button(
                label,
                href=href,
                variant="solid" if href == current else "soft",
                color_scheme=None if href == current else "gray",
                size="2",
                aria_current="page" if href == current else "false",
            )
            for label, href in TABS + _extra_tabs
        ],
        spacing="2",
        wrap="wrap",
        margin_bottom="1.5em",
    )


def settings_frame(current: str, *children: rx.Component) -> rx.Component:
    return app_layout(
        page_header("Settings", "Your account, its security, and your workspace."),
        _tabs(current),
        rx.vstack(*children, spacing="5", width="100%", max_width="760px"),
    )


def profile_page() -> rx.Component:
    return settings_frame(
        "/settings/profile",
        section(
            "Profile",
            "How you appear to your teammates.",
            rx.form(
                rx.vstack(
                    field("Name", "name", default_value=ProfileState.name, error=ProfileState.errors.get("name", ""), max_length=100),
                    rx.text("Email: ", rx.text(SessionState.user_email, weight="medium", as_="span"), size="2"),
                    rx.cond(
                        ProfileState.marketing,
                        checkbox_field("Send me occasional product news.", "marketing", default_checked=True),
                        checkbox_field("Send me occasional product news.", "marketing", default_checked=False),
                    ),
                    rx.box(submit_button("Save profile")),
                    spacing="3",
                    align="stretch",
                ),
                on_submit=ProfileState.save_profile,
                reset_on_submit=False,
                key=ProfileState.name,
                aria_label="Profile",
            ),
        ),
        section(
            "Email address",
            "We send a confirmation link to the new address. It changes when you open the link.",
            form_notice(ProfileState.email_notice),
            rx.form(
                rx.vstack(
                    field("New email address", "new_email", type="email", error=ProfileState.errors.get("new_email", "")),
                    field("Current password", "password", type="password", autocomplete="current-password",
                          error=ProfileState.errors.get("password", "")),
                    rx.box(submit_button("Change email", variant="soft")),
                    spacing="3",
                    align="stretch",
                ),
                on_submit=ProfileState.change_email,
                aria_label="Change email address",
            ),
        ),
    )


def _session_row(s: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(s["browser"], weight="medium"),
                    rx.cond(s["current"] == "yes", rx.badge("This device", color_scheme="green", high_contrast=True)),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.text(s["os"], " ", s["device"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(s["ip"], size="2")),
        rx.table.cell(rx.text(s["last_seen"], size="2")),
        rx.table.cell(rx.text(s["created"], size="2")),
        rx.table.cell(
            rx.cond(
                s["current"] == "yes",
                rx.text("—", color_scheme="gray"),
                rx.button(
                    "Sign out",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=SecurityState.revoke(s["id"]),
                    aria_label="Sign out " + s["browser"] + " on " + s["os"],
                    white_space="nowrap",
                ),
            )
        ),
    )


def security_page() -> rx.Component:
    return settings_frame(
        "/settings/security",
        section(
            "Password",
            "Changing it signs out every other device.",
            rx.form(
                rx.vstack(
                    field("Current password", "current_password", type="password", autocomplete="current-password",
                          error=SecurityState.errors.get("current_password", "")),
                    field("New password", "new_password", type="password", autocomplete="new-password",
                          error=SecurityState.errors.get("new_password", ""), hint="At least 10 characters."),
                    field("Repeat new password", "new_password2", type="password", autocomplete="new-password",
                          error=SecurityState.errors.get("new_password2", "")),
                    rx.box(submit_button("Change password")),
                    spacing="3",
                    align="stretch",
                ),
                on_submit=SecurityState.change_password,
                reset_on_submit=False,
                aria_label="Change password",
            ),
        ),
        section(
            "Active sessions",
            "Browsers signed in to your account, with the address and browser they used. Sign out any you do not recognise.",
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Browser"),
                            rx.table.column_header_cell("IP address"),
                            rx.table.column_header_cell("Last active"),
                            rx.table.column_header_cell("Signed in"),
                            rx.table.column_header_cell(rx.text("Action", class_name="sr-only")),
                        )
                    ),
                    rx.table.body(rx.foreach(SecurityState.sessions, _session_row)),
                    width="100%",
                    aria_label="Active sessions",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.box(rx.button("Sign out all other sessions", variant="soft", color_scheme="red", on_click=SecurityState.revoke_others)),
        ),
        section(
            "Recent security activity",
            "The last 50 sign-ins, failed sign-ins, password and address changes and privacy actions on your account.",
            rx.cond(
                SecurityState.activity,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("What"),
                                rx.table.column_header_cell("When"),
                                rx.table.column_header_cell("IP address"),
                            )
                        ),
                        rx.table.body(rx.foreach(SecurityState.activity, _activity_row)),
                        width="100%",
                        aria_label="Recent security activity",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text("Nothing yet.", size="2", color_scheme="gray"),
            ),
        ),
    )


def _activity_row(a: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(a["what"], size="2")),
        rx.table.cell(rx.text(a["when"], size="2")),
        rx.table.cell(rx.text(a["ip"], size="2")),
    )


def _member_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(rx.text(m["name"], weight="medium"), rx.cond(m["me"] == "yes", rx.badge("You", high_contrast=True)), spacing="2"),
                rx.text(m["email"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                (SessionState.role == "owner") & (m["role_id"] != "owner"),
                rx.select.root(
                    # the trigger carries the name: a screen reader says whose role it is
                    rx.select.trigger(aria_label="Role of " + m["name"]),
                    rx.select.content(rx.select.item("Admin", value="admin"), rx.select.item("Member", value="member")),
                    value=m["role_id"],
                    on_change=lambda v: WorkspaceState.set_role(m["user_id"], v),
                    size="1",
                ),
                rx.badge(m["role"], color_scheme=rx.cond(m["role_id"] == "owner", "iris", "gray"), high_contrast=True),
            )
        ),
        rx.table.cell(rx.text(m["joined"], size="2")),
        rx.table.cell(
            rx.cond(
                (m["role_id"] != "owner") & (SessionState.can_manage | (m["me"] == "yes")),
                confirm_dialog(
                    rx.button(
                        rx.cond(m["me"] == "yes", "Leave", "Remove"),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label=rx.cond(m["me"] == "yes", "Leave this workspace", "Remove " + m["name"]),
                    ),
                    rx.cond(m["me"] == "yes", "Leave this workspace?", "Remove " + m["name"] + " from this workspace?"),
                    rx.cond(
                        m["me"] == "yes",
                        "You lose access to its posts and brand voices until someone invites you again.",
                        "They lose access to its posts and brand voices. What they made stays here.",
                    ),
                    rx.cond(m["me"] == "yes", "Leave", "Remove"),
                    WorkspaceState.remove(m["user_id"]),
                ),
            )
        ),
    )


def workspace_page() -> rx.Component:
    manage = rx.fragment(
        section(
            "Workspace name",
            "",
            rx.form(
                rx.hstack(
                    rx.box(field("Name", "workspace_name", default_value=WorkspaceState.ws_name,
                                 error=WorkspaceState.errors.get("workspace_name", ""), max_length=100), flex="1"),
                    submit_button("Rename", variant="soft"),
                    align="end",
                    width="100%",
                ),
                on_submit=WorkspaceState.rename,
                reset_on_submit=False,
                key=WorkspaceState.ws_name,
                aria_label="Rename workspace",
            ),
        ),
        section(
            "Invite a teammate",
            "They get an email with a link to join. Members create and edit posts; admins also manage members.",
            rx.form(
                rx.flex(
                    rx.box(field("Email address", "invite_email", type="email",
                                 error=WorkspaceState.errors.get("invite_email", "")), flex="1", min_width="220px"),
                    rx.vstack(
                        rx.el.label("Role", html_for="field-invite_role", class_name="op-label"),
                        rx.el.select(
                            rx.el.option("Member", value="member"),
                            rx.el.option("Admin", value="admin"),
                            id="field-invite_role",
                            name="invite_role",
                            class_name="rt-reset op-native-select",
                        ),
                        spacing="1",
                    ),
                    submit_button("Send invitation"),
                    spacing="3",
                    align="end",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(
                    WorkspaceState.errors.get("invite_role", "") != "",
                    rx.text(WorkspaceState.errors.get("invite_role", ""), color_scheme="red", size="2", role="alert"),
                ),
                on_submit=WorkspaceState.invite,
                reset_on_submit=False,
                aria_label="Invite a teammate",
            ),
            rx.cond(
                WorkspaceState.invites.length() > 0,
                rx.vstack(
                    rx.heading("Pending invitations", size="3", as_="h3"),
                    rx.foreach(
                        WorkspaceState.invites,
                        lambda i: rx.hstack(
                            rx.text(i["email"]),
                            rx.badge(i["role"], color_scheme="gray", high_contrast=True),
                            rx.text("expires ", i["expires"], size="1", color_scheme="gray"),
                            rx.spacer(),
                            rx.button("Withdraw", size="1", variant="ghost", color_scheme="red",
                                      on_click=WorkspaceState.revoke_invite(i["id"]), aria_label="Withdraw invitation to " + i["email"]),
                            width="100%",
                            align="center",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
        ),
    )
    return settings_frame(
        "/settings/workspace",
        rx.cond(SessionState.can_manage, manage),
        section(
            "Members",
            "Everyone here sees and edits this workspace's content.",
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Member"),
                            rx.table.column_header_cell("Role"),
                            rx.table.column_header_cell("Joined"),
                            rx.table.column_header_cell(rx.text("Action", class_name="sr-only")),
                        )
                    ),
                    rx.table.body(rx.foreach(WorkspaceState.members, _member_row)),
                    width="100%",
                    aria_label="Members",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )


def settings_index_page() -> rx.Component:
    """The page at /settings itself (typed or bookmarked): it opens the first tab."""
    return app_layout(rx.center(rx.spinner(size="3"), height="60vh", aria_label="Loading"))


def add_pages(app: rx.App) -> None:
    app.add_page(
        settings_index_page,
        route="/settings",
        title="Settings · OmniPostr",
        on_load=rx.redirect("/settings/profile", replace=True),
    )
    app.add_page(profile_page, route="/settings/profile", title="Profile · OmniPostr", on_load=ProfileState.load)
    app.add_page(security_page, route="/settings/security", title="Security · OmniPostr", on_load=SecurityState.load)
    app.add_page(workspace_page, route="/settings/workspace", title="Workspace · OmniPostr", on_load=WorkspaceState.load)
