"""What every page shows about privacy choices, in both page frames: the cookie banner (until a
choice is made, and again after a material policy change), the notice of a new policy version
to acknowledge, and a warning when the browser refuses cookies (CKI-2).

The banner's choice lives in the ``op_consent`` cookie (strictly necessary: it holds only the
choice) and in the consent log. Reject is one click, exactly like Accept.
"""

from __future__ import annotations

import json

import reflex as rx

from omnipostr import db
from omnipostr.accounts.guard import member_event, public_event, tab_event
from omnipostr.accounts.state import SessionState
from omnipostr.privacy import consent, versions
from omnipostr.settings import get_settings

GPC_HEADER = "sec-gpc"


def _device_script(keep_theme: bool) -> str:
    """Remember the light or dark theme past this page only with the preferences category;
    answer whether the browser accepts cookies and sends Global Privacy Control."""
    return (
        "(function(keep){var f=window.__opForgetTheme;if(f){window.removeEventListener('pagehide',f);"
        "window.__opForgetTheme=null;}if(!keep){f=function(){try{localStorage.removeItem('theme');}catch(e){}};"
        "window.__opForgetTheme=f;window.addEventListener('pagehide',f);}"
        "return {cookies:navigator.cookieEnabled,gpc:navigator.globalPrivacyControl===true};})("
        + json.dumps(keep_theme) + ")"
    )


class ConsentState(SessionState):
    """The choice this browser made, and what the banners show. Nothing here is trusted by a
    handler: each one reads the cookie again through the service."""

    choice_cookie: str = rx.Cookie(
        "", name=consent.COOKIE, path="/", max_age=consent.COOKIE_DAYS * 86400, same_site="lax",
        secure=get_settings().base_url.startswith("https://"),
    )
    asking: bool = False
    customizing: bool = False
    analytics: bool = False
    preferences: bool = False
    gpc: bool = False
    cookies_off: bool = False
    policy_version: str = ""
    policy_date: str = ""
    policy_summary: str = ""

    def _forget_own(self) -> None:
        self.policy_version = self.policy_date = self.policy_summary = ""

    async def _user_id(self) -> int | None:
        res = await self._resolve()
        return res.user.id if res is not None else None

    def _gpc_sent(self) -> bool:
        """The event connection came with ``Sec-GPC: 1``."""
        return self.router.headers.raw_headers.get(GPC_HEADER, "").strip() == "1"

    def _show(self, choice: consent.Choice | None) -> None:
        self.analytics = bool(choice and choice.analytics)
        self.preferences = bool(choice and choice.preferences)

    @public_event
    async def check(self):
        """On every page: honour Global Privacy Control, ask for a choice when there is none
        (or it predates a material policy change), and show a policy update to acknowledge."""
        gpc = self._gpc_sent()
        user_id = await self._user_id()
        pending = await self._settle(gpc, user_id)
        self.customizing = False
        self.policy_version = pending.version if pending else ""
        self.policy_date = versions.display(pending.version) if pending else ""
        self.policy_summary = pending.summary if pending else ""
        return rx.call_script(_device_script(self.preferences), callback=ConsentState.device_checked)

    async def _settle(self, gpc: bool, user_id: int | None):
        """Apply what this browser says (its cookie, its GPC signal) and what the account chose;
        the policy version the person has still to acknowledge."""
        choice = consent.parse(self.choice_cookie)

        def work(s):
            new = consent.honour_gpc(s, choice, user_id) if gpc else None
            if not gpc and user_id is not None:
                consent.adopt(s, choice, user_id)
            now = new or choice
            return new, now, consent.needs_asking(s, now), versions.pending(s, user_id) if user_id else None

        new, now, ask, pending = await db.run(work)
        if new is not None:
            self.choice_cookie = new.cookie()
        self.gpc = self.gpc or gpc
        self._show(now)
        self.asking = ask
        return pending

    @public_event
    async def device_checked(self, info: dict):
        """What the page found out in the browser: cookies refused, or GPC sent (browsers that
        send the signal also say so to the page's scripts)."""
        info = info if isinstance(info, dict) else {}
        self.cookies_off = info.get("cookies") is False
        if info.get("gpc") is True and not self.gpc:
            await self._settle(True, await self._user_id())

    @public_event
    async def accept_all(self):
        return await self._choose(True, True)

    @public_event
    async def reject_all(self):
        return await self._choose(False, False)

    @public_event
    async def save_choices(self, form: dict):
        return await self._choose(form.get("analytics") == "on", form.get("preferences") == "on")

    @tab_event
    def reopen(self):
        """The "Cookie settings" link: the banner again, with the choice as it stands."""
        self._show(consent.parse(self.choice_cookie))
        self.asking = True
        self.customizing = False

    async def _choose(self, analytics: bool, preferences: bool):
        before = consent.parse(self.choice_cookie)
        gpc = self._gpc_sent()
        user_id = await self._user_id()
        choice = await db.run(
            lambda s: consent.record(
                s, consent_id=before.consent_id if before else None, user_id=user_id,
                analytics=analytics, preferences=preferences, gpc=gpc,
            )
        )
        self.choice_cookie = choice.cookie()
        self._show(choice)
        self.asking = False
        self.customizing = False
        note = "Analytics stays off: your browser asks not to be tracked (Global Privacy Control)." if gpc and analytics else (
            "Cookie choices saved."
        )
        return [rx.call_script(_device_script(choice.preferences)), rx.toast.success(note)]

    @tab_event
    def customize(self):
        self.customizing = True

    @member_event
    async def acknowledge_policy(self, actor):
        if not self.policy_version:
            return
        version = self.policy_version
        try:
            await db.run(versions.acknowledge, actor.user_id, version)
        except ValueError:
            pass
        self.policy_version = self.policy_date = self.policy_summary = ""


C = ConsentState


def _choice_switch(name: str, label: str, text: str, checked: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.el.input(type="checkbox", name=name, id=f"consent-{name}", default_checked=checked, class_name="op-check"),
        rx.vstack(
            rx.el.label(label, html_for=f"consent-{name}", class_name="op-label"),
            rx.text(text, size="1", color_scheme="gray"),
            spacing="0",
        ),
        align="start",
        spacing="2",
    )


def _customize_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.el.input(type="checkbox", id="consent-necessary", default_checked=True, disabled=True, class_name="op-check"),
                rx.vstack(
                    rx.el.label("Necessary (always on)", html_for="consent-necessary", class_name="op-label"),
                    rx.text("Keeps you signed in and remembers this choice.", size="1", color_scheme="gray"),
                    spacing="0",
                ),
                align="start",
                spacing="2",
            ),
            _choice_switch("analytics", "Analytics",
                           "Records which features you use and when (never your content), to keep the service working well.",
                           C.analytics),
            _choice_switch("preferences", "Preferences", "Remembers your light or dark theme on this device.", C.preferences),
            rx.hstack(
                rx.button("Save choices", type="submit", size="2"),
                rx.button("Reject all", type="button", on_click=C.reject_all, size="2", variant="soft"),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            align="start",
        ),
        on_submit=C.save_choices,
        # the banner is re-drawn with the current choice each time it opens
        key=C.analytics.to_string() + C.preferences.to_string(),
    )


def cookie_banner() -> rx.Component:
    return rx.fragment(
        rx.cond(
            C.asking,
            rx.el.section(
                rx.vstack(
                    rx.heading("Cookies", as_="h2", size="3", id="cookie-banner-title"),
                    rx.text(
                        "We use one cookie to keep you signed in. With your permission we also measure how the app is "
                        "used and remember your theme on this device. Nothing is shared with advertisers. ",
                        rx.link("Privacy policy", href="/privacy", underline="always"),
                        size="2",
                    ),
                    rx.cond(
                        C.gpc,
                        rx.text("Your browser sends Global Privacy Control: analytics stays off whatever you choose here.",
                                size="2", weight="medium"),
                    ),
                    rx.cond(
                        C.customizing,
                        _customize_form(),
                        rx.hstack(
                            # as easy to reject as to accept: the same size, the same weight, one click
                            rx.button("Reject all", on_click=C.reject_all, size="2", variant="solid"),
                            rx.button("Accept all", on_click=C.accept_all, size="2", variant="solid"),
                            rx.button("Choose", on_click=C.customize, size="2", variant="soft"),
                            spacing="2",
                            wrap="wrap",
                        ),
                    ),
                    spacing="2",
                    align="start",
                ),
                class_name="op-consent",
                aria_labelledby="cookie-banner-title",
            ),
        ),
        rx.cond(
            C.cookies_off,
            rx.callout(
                "Cookies are turned off in this browser. You can read the public pages, but signing in needs one "
                "cookie (it only keeps you signed in): allow cookies for this site to use the app.",
                icon="cookie",
                color_scheme="amber",
                role="alert",
                class_name="op-cookies-off",
            ),
        ),
        on_mount=C.check,
    )


def policy_update() -> rx.Component:
    """For a signed-in person who has not acknowledged the newest material policy change."""
    return rx.cond(
        C.policy_version != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("scroll-text")),
            rx.vstack(
                rx.text(
                    rx.text("We updated our privacy policy on ", C.policy_date, ". ", as_="span", weight="medium"),
                    C.policy_summary,
                    size="2",
                ),
                rx.hstack(
                    rx.link("Read the policy", href="/privacy", underline="always", size="2"),
                    rx.button("Got it", on_click=C.acknowledge_policy, size="1"),
                    spacing="3",
                    align="center",
                ),
                spacing="2",
            ),
            color_scheme="iris",
            role="region",
            aria_label="Privacy policy update",
            class_name="op-policy-update",
        ),
    )


def cookie_settings_link(**props) -> rx.Component:
    """Reopens the banner (footer and menu)."""
    return rx.button("Cookie settings", on_click=C.reopen, variant="ghost", color_scheme="gray", size="1",
                     class_name="op-link-button", **props)
