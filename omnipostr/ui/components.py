"""Shared building blocks: form fields with labels and errors, page headers, empty states."""

from __future__ import annotations

import reflex as rx


def focus_by_id(element_id: str | rx.Var) -> str | rx.Var:
    """Script that puts the focus on an element once the page has redrawn (e.g. the button
    that opened an editor, a dialog or a menu, when it closes)."""
    return "setTimeout(function(){var b=document.getElementById('" + element_id + "');if(b)b.focus();},80)"


def field(
    label: str,
    name: str,
    *,
    type: str = "text",
    placeholder: str = "",
    error: rx.Var | str = "",
    hint: str = "",
    autocomplete: str = "",
    default_value: rx.Var | str | None = None,
    required: bool = False,
    max_length: int | None = None,
) -> rx.Component:
    """A labelled input. The input's id ties it to its label (tests and screen readers find it
    by label). The value is not bound to state: passwords never enter the state."""
    field_id = f"field-{name}"
    props: dict = {
        "id": field_id,
        "name": name,
        "type": type,
        "placeholder": placeholder,
        "size": "3",
        "width": "100%",
        "required": required,
    }
    if autocomplete:
        props["auto_complete"] = autocomplete
    if default_value is not None:
        props["default_value"] = default_value
    if max_length:
        props["max_length"] = max_length
    error_var = error if isinstance(error, rx.Var) else rx.Var.create(error)
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="op-label"),
        rx.input(**props, aria_invalid=rx.cond(error_var != "", "true", "false")),
        rx.cond(
            error_var != "",
            rx.text(error_var, color_scheme="red", size="2", role="alert"),
            rx.text(hint, color_scheme="gray", size="1") if hint else rx.fragment(),
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def checkbox_field(label: rx.Component | str, name: str, *, error: rx.Var | str = "", default_checked: bool = False) -> rx.Component:
    field_id = f"field-{name}"
    error_var = error if isinstance(error, rx.Var) else rx.Var.create(error)
    return rx.vstack(
        rx.hstack(
            rx.el.input(type="checkbox", id=field_id, name=name, default_checked=default_checked, class_name="op-check"),
            rx.el.label(label, html_for=field_id, class_name="op-check-label"),
            align="start",
            spacing="2",
        ),
        rx.cond(error_var != "", rx.text(error_var, color_scheme="red", size="2", role="alert")),
        spacing="1",
        width="100%",
    )


def form_error(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def form_notice(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="info", color_scheme="green", role="status", width="100%"),
    )


def page_header(title: str, subtitle: str = "", *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", weight="bold", as_="h1"),
            rx.text(subtitle, color_scheme="gray", size="3") if subtitle else rx.fragment(),
            spacing="1",
        ),
        rx.spacer(),
        rx.hstack(*actions, spacing="2") if actions else rx.fragment(),
        width="100%",
        align="end",
        wrap="wrap",
        spacing="3",
        margin_bottom="1.5em",
    )


def empty_state(icon: str, title: str, text: str, *actions: rx.Component, level: str = "h2") -> rx.Component:
    """``level="h1"`` when the empty state is the whole page (a page not found)."""
    return rx.center(
        rx.vstack(
            rx.box(rx.icon(icon, size=28), class_name="op-empty-icon"),
            rx.heading(title, size="4" if level != "h1" else "6", as_=level),
            rx.text(text, color_scheme="gray", align="center", max_width="32em"),
            rx.hstack(*actions, spacing="2", margin_top="0.5em") if actions else rx.fragment(),
            align="center",
            spacing="2",
        ),
        padding="3em 1em",
        border="1px dashed var(--gray-a6)",
        border_radius="var(--radius-4)",
        width="100%",
    )


def card(*children: rx.Component, **props) -> rx.Component:
    return rx.card(*children, size="3", width="100%", **props)


def section(title: str, description: str, *children: rx.Component) -> rx.Component:
    """A titled card; a landmark region named by its title (people and tests find it so)."""
    return rx.el.section(_section_card(title, description, *children), aria_label=title, width="100%")


def _section_card(title: str, description: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.text(description, color_scheme="gray", size="2") if description else rx.fragment(),
            *children,
            spacing="3",
            width="100%",
            align="stretch",
        ),
        size="3",
        width="100%",
    )


def submit_button(label: str, *, loading: rx.Var | bool = False, **props) -> rx.Component:
    return rx.button(label, type="submit", size="3", loading=loading, **props)


def link_button(*children, href: rx.Var | str, **props) -> rx.Component:
    """A link that looks like a button (one element, role link: no button nested in a link)."""
    return rx.button(rx.link(*children, href=href, underline="none"), as_child=True, **props)


def confirm_dialog(trigger: rx.Component, title, description, confirm_label, on_confirm, *, danger: bool = True) -> rx.Component:
    """An action behind a question (red when it destroys): the trigger opens it; "Keep it"
    closes it."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme="red" if danger else "iris", on_click=on_confirm)),
                spacing="2",
                justify="end",
                margin_top="1em",
            ),
        ),
    )


def labelled_select(
    label: str, id_: str, value, on_change, items: list[rx.Component], *, small: bool = False, **trigger_props
) -> rx.Component:
    """A select with a visible label tied to it (found by its label, as a person would)."""
    return rx.vstack(
        rx.el.label(label, html_for=id_, class_name="op-label op-small" if small else "op-label"),
        rx.select.root(
            rx.select.trigger(id=id_, aria_label=label, **trigger_props),
            rx.select.content(*items),
            value=value,
            on_change=on_change,
            size="2",
        ),
        spacing="1",
        width="100%" if not small else None,
    )
