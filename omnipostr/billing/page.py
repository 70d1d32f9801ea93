"""The billing page (``/billing``: plan, usage, invoices, payment method, upgrade) and the
public pricing page (``/pricing``). Both read the plans file, as every limit does."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.billing.state import BillingState as B
from omnipostr.billing.state import plan_cards
from omnipostr.ui.components import link_button, page_header, section
from omnipostr.ui.layout import NavItem, app_layout, public_layout, register_nav

register_nav(NavItem("Billing", "/billing", "credit-card"), before="Settings")


SHOWN_LIMITS = ("generations", "members", "voices", "api")
"""The limits a plan card lists: only those of what the app does today (the plans file also
holds scheduling's, for when it ships)."""


def _limits(p: dict) -> rx.Component:
    return rx.el.ul(
        *[rx.el.li(rx.text(p[k], size="2")) for k in SHOWN_LIMITS],
        class_name="op-list",
    )


def _price_line(p: dict) -> rx.Component:
    if not p["paid"]:
        return rx.text(rx.text("Free", size="6", weight="bold", as_="span"), size="2")
    return rx.vstack(
        rx.text(rx.text(p["monthly"], size="6", weight="bold", as_="span"), " a month", size="2"),
        rx.text(f"or {p['yearly']} a year", size="1", color_scheme="gray") if p["has_yearly"] else rx.fragment(),
        rx.text(p["trial"], size="1", weight="medium", color_scheme="green") if p["trial"] else rx.fragment(),
        spacing="0",
    )


def _buy_buttons(p: dict) -> rx.Component:
    """Upgrade buttons for a paid plan, on the billing page: for a manager of a workspace on
    Free, when billing is on."""
    if not p["paid"]:
        return rx.fragment()
    buttons = [rx.button(f"Upgrade to {p['name']} monthly", on_click=B.upgrade(p["id"], "month"),
                         loading=B.busy == f"{p['id']}-month", size="2")]
    if p["has_yearly"]:
        buttons.append(rx.button(f"Upgrade to {p['name']} yearly", on_click=B.upgrade(p["id"], "year"),
                                 loading=B.busy == f"{p['id']}-year", size="2", variant="soft"))
    return rx.cond(
        B.enabled & B.can_manage & (B.plan_id == "free"),
        rx.hstack(*buttons, spacing="2", wrap="wrap"),
    )


def _plan_card(p: dict, *, buying: bool) -> rx.Component:
    current = B.plan_id == p["id"]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(p["name"], size="4", as_="h3"),
                rx.cond(current, rx.badge("Your plan", color_scheme="green")) if buying else rx.fragment(),
                align="center",
                spacing="2",
            ),
            rx.text(p["description"], size="2", color_scheme="gray"),
            _price_line(p),
            _limits(p),
            _buy_buttons(p) if buying else rx.fragment(),
            spacing="2",
            align="stretch",
        ),
        size="2",
        width="100%",
    )


def _plans(*, buying: bool) -> rx.Component:
    return rx.grid(*[_plan_card(p, buying=buying) for p in plan_cards()], columns=rx.breakpoints(initial="1", md="3"),
                   spacing="3", width="100%")


def _attention() -> rx.Component:
    return rx.cond(
        B.attention != "",
        rx.callout(
            rx.vstack(
                rx.text(rx.cond(
                    B.attention == "action_required",
                    "Your bank asks you to confirm the last payment. Until you do, the invoice stays unpaid.",
                    "The last payment failed. Stripe tries the card again over the next days; if no payment "
                    "succeeds, the workspace moves to the Free plan.",
                ), size="2"),
                rx.hstack(
                    rx.cond(B.attention_url != "", link_button(
                        rx.cond(B.attention == "action_required", "Confirm the payment", "Pay the invoice"),
                        href=B.attention_url, size="1", color_scheme="red")),
                    rx.cond(B.can_manage, rx.button("Update the card", on_click=B.portal, size="1", variant="soft",
                                                    loading=B.busy == "portal")),
                    spacing="3",
                    align="center",
                ),
                spacing="2",
            ),
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
        ),
    )


def _status() -> rx.Component:
    return section(
        "Your plan",
        "What this workspace is on, and when it renews.",
        rx.hstack(rx.text(B.plan_name, size="6", weight="bold"), rx.cond(B.status != "", rx.badge(B.status_name)),
                  align="center", spacing="3"),
        rx.cond(
            B.trial_ends_on != "",
            rx.text("Trial ends on ", rx.el.strong(B.trial_ends_on), ".", size="2"),
        ),
        rx.cond(
            B.renews_on != "",
            rx.cond(
                B.cancels,
                rx.text("Canceled: the plan ends on ", rx.el.strong(B.renews_on),
                        ", then the workspace moves to Free. You can renew it until then.", size="2"),
                rx.text("Renews on ", rx.el.strong(B.renews_on),
                        rx.cond(B.interval == "year", " (yearly).", " (monthly)."), size="2"),
            ),
        ),
        rx.cond(
            B.enabled & B.can_manage & B.has_customer,
            rx.box(rx.button("Manage plan and payment", on_click=B.portal, loading=B.busy == "portal",
                             variant="soft", size="2")),
        ),
        rx.cond(
            B.enabled & B.can_manage & B.has_customer,
            rx.text("Stripe's customer portal changes or cancels the plan, updates the card and the billing "
                    "address, and lists every invoice.", size="1", color_scheme="gray"),
        ),
        rx.cond(
            B.enabled & ~B.can_manage,
            rx.text("Only the workspace's owner or an admin can change its plan.", size="2", color_scheme="gray"),
        ),
    )


def _bar(d: rx.Var) -> rx.Component:
    return rx.box(
        rx.box(height=d["height"], class_name="op-usage-bar"),
        title=d["label"],
        class_name="op-usage-col",
    )


def _usage() -> rx.Component:
    return section(
        "Usage this period",
        "Generations this workspace started in the current billing period. A generation that fails does not count.",
        rx.text(rx.el.strong(B.used), " of ", B.limit, " generations, ", B.period, size="2"),
        rx.progress(value=B.used, max=B.limit, aria_label="Generations used this period", width="100%"),
        rx.box(
            rx.foreach(B.days, _bar),
            class_name="op-usage-chart",
            role="img",
            aria_label="Generations started each day of this period: " + B.days_summary,
        ),
    )


def _invoice_row(i: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(i["number"], size="2")),
        rx.table.cell(rx.text(i["date"], size="2")),
        rx.table.cell(rx.text(i["amount"], size="2"), text_align="right"),
        rx.table.cell(rx.text(i["status"], size="2")),
        rx.table.cell(rx.cond(i["url"] != "", rx.link("View invoice", href=i["url"], is_external=True,
                                                      underline="always", size="2"))),
    )


def _invoices() -> rx.Component:
    return section(
        "Invoices",
        "Every invoice Stripe issued for this workspace. We keep them for the tax period, as the law asks.",
        rx.cond(
            B.invoices.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Invoice"), rx.table.column_header_cell("Date"),
                        rx.table.column_header_cell("Amount", text_align="right"), rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(rx.el.span("Link", class_name="sr-only")),
                    )),
                    rx.table.body(rx.foreach(B.invoices, _invoice_row)),
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.text("No invoices yet.", size="2", color_scheme="gray"),
        ),
    )


def _payment() -> rx.Component:
    return rx.cond(
        B.can_manage & (B.card != ""),
        section(
            "Payment method",
            "Stripe keeps the card; we only know its brand and last four digits.",
            rx.text(B.card, size="2"),
            rx.cond(B.address.length() > 0, rx.vstack(
                rx.text("Billing address", size="2", weight="medium"),
                rx.foreach(B.address, lambda line: rx.text(line, size="2")),
                spacing="0",
            )),
        ),
    )


def _off() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text("Billing is not set up on this server: every workspace is on the Free plan, with the limits below.",
                    size="2"),
            rx.cond(B.can_manage, rx.text(
                "To sell plans, the operator sets OMNIPOSTR_STRIPE_SECRET_KEY and OMNIPOSTR_STRIPE_WEBHOOK_SECRET, "
                "points a Stripe webhook at /billing/webhook and lists the Stripe prices in the plans file "
                "(the README's Billing section says how).", size="2")),
            spacing="1",
        ),
        icon="info",
        width="100%",
    )


def billing_page() -> rx.Component:
    return app_layout(
        page_header("Billing", "This workspace's plan, its usage, and its invoices."),
        rx.vstack(
            rx.cond(B.notice != "", rx.callout(B.notice, icon=rx.cond(B.waiting, "loader", "circle-check"),
                                                role="status", width="100%")),
            rx.cond(B.error != "", rx.callout(B.error, icon="circle-alert", color_scheme="red", role="alert",
                                               width="100%")),
            rx.cond(~B.enabled, _off()),
            _attention(),
            _status(),
            _usage(),
            section("Plans", "What each plan allows. Prices are per workspace.", _plans(buying=True)),
            _invoices(),
            _payment(),
            spacing="5",
            width="100%",
            max_width="980px",
        ),
    )


def pricing_page() -> rx.Component:
    return public_layout(
        rx.vstack(
            rx.heading("Pricing", size="8", as_="h1"),
            rx.text("One article, every platform. Start free; upgrade when your team publishes more.", size="3"),
            _plans(buying=False),
            rx.hstack(
                link_button("Get started free", href="/signup", size="3"),
                rx.link("Already a customer? Billing", href="/billing", underline="always", size="2"),
                spacing="4",
                align="center",
            ),
            spacing="5",
            align="stretch",
        ),
    )


def add_pages(app: rx.App) -> None:
    app.add_page(billing_page, route="/billing", title="Billing · OmniPostr", on_load=B.load)
    app.add_page(pricing_page, route="/pricing", title="Pricing · OmniPostr", on_load=SessionState.load_public)
