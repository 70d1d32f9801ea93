"""Public account pages: sign-up, sign-in, reset, confirmation links, invitations."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import (
    InviteState,
    LoginState,
    ResetState,
    SessionState,
    SignUpState,
    SocialFinishState,
    VerifyState,
)
from omnipostr.notify import devmail
from omnipostr.settings import get_settings
from omnipostr.ui.components import (
    checkbox_field,
    field,
    form_error,
    form_notice,
    link_button,
    submit_button,
)
from omnipostr.ui.layout import auth_card


def _err(state, name: str) -> rx.Var:
    return state.errors.get(name, "")


def _dev_mail_hint() -> rx.Component:
    if not devmail.enabled():
        return rx.fragment()
    return rx.callout(
        rx.text(
            "This server sends no email yet (no mail server is configured). The person who runs it "
            "can read the message in its development mailbox, whose address is printed in their terminal."
        ),
        icon="mail",
        color_scheme="gray",
        size="1",
    )


def _policy_label() -> rx.Component:
    return rx.text(
        "I have read and accept the ",
        rx.link("privacy policy", href="/privacy", is_external=True),
        ".",
        as_="span",
    )


def _social_buttons(next_param: str = "") -> rx.Component:
    return rx.cond(
        LoginState.providers.length() > 0,
        rx.vstack(
            rx.foreach(
                LoginState.providers,
                lambda p: rx.button(
                    rx.el.a("Continue with ", p["name"], href=get_settings().backend_path("/auth/oauth/") + p["id"] + "/start" + next_param),
                    as_child=True,
                    variant="outline",
                    size="3",
                    width="100%",
                ),
            ),
            rx.hstack(rx.separator(size="4"), rx.text("or", size="1", color_scheme="gray"), rx.separator(size="4"), align="center", width="100%"),
            spacing="3",
            width="100%",
        ),
    )


def signup_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            form_error(SignUpState.form_error),
            field("Your name", "name", autocomplete="name", error=_err(SignUpState, "name"), max_length=100),
            field("Work email", "email", type="email", autocomplete="email", error=_err(SignUpState, "email")),
            field(
                "Password",
                "password",
                type="password",
                autocomplete="new-password",
                error=_err(SignUpState, "password"),
                hint="At least 10 characters. A few unrelated words work well.",
            ),
            field(
                "Team or company name",
                "team",
                autocomplete="organization",
                error=_err(SignUpState, "team"),
                hint="Your workspace is named after it. You can invite your team later.",
                max_length=100,
            ),
            checkbox_field("I am 16 years of age or older.", "age", error=_err(SignUpState, "age")),
            checkbox_field(_policy_label(), "policy", error=_err(SignUpState, "policy")),
            checkbox_field("Send me occasional product news (optional).", "marketing"),
            submit_button("Create account", loading=SignUpState.busy, width="100%"),
            spacing="4",
            width="100%",
            align="stretch",
        ),
        on_submit=SignUpState.submit,
        reset_on_submit=False,
        aria_label="Create your account",
    )
    done = rx.vstack(
        rx.callout(
            rx.text("We sent a link to ", rx.text(SignUpState.sent_to, weight="bold", as_="span"),
                    ". Open it to confirm your address and start using OmniPostr."),
            icon="mail-check",
            color_scheme="green",
            role="status",
        ),
        _dev_mail_hint(),
        rx.hstack(
            rx.button("Send the link again", variant="soft", on_click=SignUpState.resend),
            rx.button("Use another address", variant="ghost", on_click=SignUpState.start_over),
            spacing="2",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )
    return auth_card(
        "Create your account",
        "Turn one article into posts for every network.",
        rx.cond(
            SignUpState.done,
            done,
            rx.vstack(
                _social_buttons(),
                form,
                rx.text("Already have an account? ", rx.link("Sign in", href="/login"), size="2", color_scheme="gray"),
                spacing="4",
                width="100%",
            ),
        ),
    )


def login_page() -> rx.Component:
    return auth_card(
        "Sign in",
        "Welcome back.",
        form_notice(LoginState.notice),
        _social_buttons(),
        rx.form(
            rx.vstack(
                form_error(LoginState.error),
                rx.cond(LoginState.unverified_email != "", _dev_mail_hint()),
                field("Email", "email", type="email", autocomplete="username"),
                field("Password", "password", type="password", autocomplete="current-password"),
                submit_button("Sign in", loading=LoginState.busy, width="100%"),
                spacing="4",
                width="100%",
                align="stretch",
            ),
            on_submit=LoginState.submit,
            reset_on_submit=False,
            aria_label="Sign in",
        ),
        rx.hstack(
            rx.link("Forgot your password?", href="/reset", size="2"),
            rx.spacer(),
            rx.link("Create an account", href="/signup", size="2"),
            width="100%",
        ),
    )


def reset_page() -> rx.Component:
    return auth_card(
        "Reset your password",
        "We will email you a link to choose a new password.",
        rx.cond(
            ResetState.sent,
            rx.vstack(
                rx.callout(
                    "If an account uses that address, a reset link is on its way. It works for one hour.",
                    icon="mail-check",
                    color_scheme="green",
                    role="status",
                ),
                _dev_mail_hint(),
                rx.link("Back to sign in", href="/login"),
                spacing="4",
            ),
            rx.form(
                rx.vstack(
                    form_error(ResetState.error),
                    field("Email", "email", type="email", autocomplete="email"),
                    submit_button("Send reset link", width="100%"),
                    rx.link("Back to sign in", href="/login", size="2"),
                    spacing="4",
                    align="stretch",
                ),
                on_submit=ResetState.request,
                aria_label="Request a password reset",
            ),
        ),
    )


def reset_confirm_page() -> rx.Component:
    return auth_card(
        "Choose a new password",
        "",
        rx.cond(
            ResetState.token_ok,
            rx.form(
                rx.vstack(
                    form_error(ResetState.error),
                    field("New password", "password", type="password", autocomplete="new-password",
                          hint="At least 10 characters. Every other signed-in device will be signed out."),
                    field("Repeat new password", "password2", type="password", autocomplete="new-password"),
                    submit_button("Save new password", loading=ResetState.busy, width="100%"),
                    spacing="4",
                    align="stretch",
                ),
                on_submit=ResetState.confirm,
                reset_on_submit=False,
                aria_label="Choose a new password",
            ),
            rx.vstack(
                rx.callout(
                    rx.cond(ResetState.error != "", ResetState.error, "This link is invalid or has expired. Ask for a new one."),
                    icon="triangle_alert",
                    color_scheme="red",
                    role="alert",
                ),
                link_button("Ask for a new link", href="/reset"),
                spacing="4",
            ),
        ),
    )


def verify_page() -> rx.Component:
    return auth_card(
        rx.cond(VerifyState.status == "failed", "That link did not work", "Confirming your email"),
        "",
        rx.cond(
            VerifyState.status == "failed",
            rx.vstack(
                rx.callout(VerifyState.message, icon="triangle_alert", color_scheme="red", role="alert"),
                rx.text("Sign in and we will send a fresh link, or create your account again.", color_scheme="gray"),
                link_button("Sign in", href="/login"),
                spacing="4",
            ),
            rx.hstack(rx.spinner(), rx.text("One moment…"), align="center"),
        ),
    )


def verify_email_change_page() -> rx.Component:
    return auth_card(
        "New email address",
        "",
        rx.match(
            VerifyState.status,
            ("failed", rx.callout(VerifyState.message, icon="triangle_alert", color_scheme="red", role="alert")),
            ("done", rx.vstack(
                rx.callout(VerifyState.message, icon="check", color_scheme="green", role="status"),
                link_button("Continue", href="/settings/profile"),
                spacing="4",
            )),
            rx.hstack(rx.spinner(), rx.text("One moment…")),
        ),
    )


def invite_page() -> rx.Component:
    return auth_card(
        "Join a workspace",
        "",
        rx.cond(
            InviteState.valid,
            rx.vstack(
                rx.text(
                    rx.text(InviteState.inviter, weight="bold", as_="span"),
                    " invited ",
                    rx.text(InviteState.invited_email, weight="bold", as_="span"),
                    " to join ",
                    rx.text(InviteState.workspace, weight="bold", as_="span"),
                    " as ",
                    InviteState.invited_role,
                    ".",
                ),
                form_error(InviteState.error),
                rx.cond(
                    SessionState.signed_in,
                    rx.vstack(
                        rx.text("You are signed in as ", SessionState.user_email, ".", color_scheme="gray", size="2"),
                        rx.button("Accept invitation", on_click=InviteState.accept, size="3"),
                        spacing="3",
                    ),
                    rx.vstack(
                        rx.text("Sign in or create an account with that address to accept.", color_scheme="gray"),
                        rx.hstack(
                            link_button("Sign in to accept", href="/login?next=/invite?" + InviteState.invite_query),
                            link_button("Create an account", variant="soft", href="/signup"),
                            spacing="2",
                            wrap="wrap",
                        ),
                        spacing="3",
                    ),
                ),
                spacing="4",
            ),
            rx.callout(
                "This invitation is invalid, was withdrawn or has expired. Ask the person who invited you for a new one.",
                icon="triangle_alert",
                color_scheme="red",
                role="alert",
            ),
        ),
    )


def social_finish_page() -> rx.Component:
    return auth_card(
        "Finish creating your account",
        "",
        rx.cond(
            SocialFinishState.valid,
            rx.form(
                rx.vstack(
                    rx.text("You signed in with ", SocialFinishState.provider, ". A few details and you are in.", color_scheme="gray"),
                    form_error(SocialFinishState.errors.get("form", "")),
                    field("Your name", "name", default_value=SocialFinishState.name, error=_err(SocialFinishState, "name"), max_length=100),
                    rx.cond(
                        SocialFinishState.email_locked,
                        rx.text("Email: ", SocialFinishState.email, size="2"),
                        field("Email", "email", type="email", error=_err(SocialFinishState, "email")),
                    ),
                    field("Team or company name", "team", error=_err(SocialFinishState, "team"), max_length=100),
                    checkbox_field("I am 16 years of age or older.", "age", error=_err(SocialFinishState, "age")),
                    checkbox_field(_policy_label(), "policy", error=_err(SocialFinishState, "policy")),
                    checkbox_field("Send me occasional product news (optional).", "marketing"),
                    submit_button("Create account", width="100%"),
                    spacing="4",
                    align="stretch",
                ),
                on_submit=SocialFinishState.submit,
                reset_on_submit=False,
                aria_label="Finish creating your account",
            ),
            rx.cond(
                SocialFinishState.loaded,
                rx.vstack(
                    form_error(SocialFinishState.errors.get("form", "This sign-up has expired. Please start again.")),
                    link_button("Back to sign in", href="/login"),
                    spacing="4",
                ),
                rx.spinner(),
            ),
        ),
    )


def add_pages(app: rx.App) -> None:
    app.add_page(signup_page, route="/signup", title="Create your account · OmniPostr", on_load=[SessionState.load_public])
    app.add_page(login_page, route="/login", title="Sign in · OmniPostr", on_load=[SessionState.load_public, LoginState.on_load])
    app.add_page(reset_page, route="/reset", title="Reset password · OmniPostr")
    app.add_page(reset_confirm_page, route="/reset/confirm", title="New password · OmniPostr", on_load=ResetState.check_token)
    app.add_page(verify_page, route="/verify", title="Confirm email · OmniPostr", on_load=VerifyState.verify_signup)
    app.add_page(verify_email_change_page, route="/verify/email-change", title="Confirm email · OmniPostr", on_load=VerifyState.verify_email_change)
    app.add_page(invite_page, route="/invite", title="Invitation · OmniPostr", on_load=InviteState.load_invite)
    app.add_page(social_finish_page, route="/signup/finish", title="Finish sign-up · OmniPostr", on_load=SocialFinishState.load)
