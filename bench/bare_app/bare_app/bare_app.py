"""One page, one state: a row of toggle chips like the composer's platform picker."""

import reflex as rx

CHIPS = ["X", "LinkedIn", "Instagram", "Threads", "Bluesky", "Mastodon"]


class State(rx.State):
    selected: list[str] = ["X", "LinkedIn"]

    @rx.event
    def toggle(self, name: str):
        if name in self.selected:
            self.selected = [c for c in self.selected if c != name]
        else:
            self.selected = [c for c in CHIPS if c in self.selected or c == name]


def chip(name: str) -> rx.Component:
    on = State.selected.contains(name)
    return rx.button(
        name,
        variant=rx.cond(on, "solid", "outline"),
        color_scheme=rx.cond(on, "iris", "gray"),
        size="2",
        radius="full",
        on_click=State.toggle(name),
        aria_pressed=rx.cond(on, "true", "false"),
        type="button",
    )


def index() -> rx.Component:
    return rx.container(
        rx.heading("Bare", as_="h1"),
        rx.flex(*[chip(c) for c in CHIPS], wrap="wrap", spacing="2", role="group", aria_label="Platforms"),
    )


app = rx.App()
app.add_page(index, route="/")
