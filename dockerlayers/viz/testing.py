"""Drive a panel without a browser, like click's CliRunner: click buttons by their label,
set fields by name, read the status, error, event log and trace as plain text.

    runner = PanelRunner(ContainerLab(client, image=client.images.base()))
    runner.set("name", "web").click("create").click("start")
    assert "Up" in runner.status
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets

_TAG = re.compile(r"<[^>]+>")


def plain(value: str) -> str:
    """The text of an HTML widget value (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", value))


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """The widget and every widget inside it."""
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


class PanelRunner:
    """Clicks and reads one panel (any widget with a `controls` dict of named widgets)."""

    def __init__(self, panel: Any) -> None:
        self.panel = panel

    # -- finding -------------------------------------------------------------------------
    def buttons(self) -> list[str]:
        return [w.description for w in walk(self.panel) if isinstance(w, widgets.Button)]

    def button(self, label: str) -> widgets.Button:
        for w in walk(self.panel):
            if isinstance(w, widgets.Button) and w.description == label:
                return w
        raise KeyError(f"no button {label!r}; buttons: {', '.join(self.buttons())}")

    def control(self, name: str) -> widgets.Widget:
        controls = getattr(self.panel, "controls", {})
        if name in controls:
            return controls[name]
        for w in walk(self.panel):
            if getattr(w, "description", None) == name and not isinstance(w, widgets.Button):
                return w
        raise KeyError(f"no field {name!r}; fields: {', '.join(controls)}")

    # -- acting --------------------------------------------------------------------------
    def click(self, label: str) -> PanelRunner:
        b = self.button(label)
        if b.disabled:
            raise RuntimeError(f"button {label!r} is disabled")
        b.click()
        return self

    def set(self, name: str, value: Any) -> PanelRunner:
        w = self.control(name)
        if isinstance(w, (widgets.Dropdown, widgets.Select)) and value not in [
            v for _, v in _options(w)
        ]:
            for label, v in _options(w):
                if label == value:
                    value = v
                    break
            else:
                raise ValueError(f"{name}: no option {value!r}")
        w.value = value
        return self

    def get(self, name: str) -> Any:
        return self.control(name).value

    def text(self, name: str) -> str:
        """A field's value as plain text (HTML stripped)."""
        w = self.control(name)
        value = w.value
        return plain(value) if isinstance(w, widgets.HTML) else str(value)

    def options(self, name: str) -> list[str]:
        return [label for label, _ in _options(self.control(name))]

    def image(self, name: str = "map") -> bytes:
        return bytes(self.control(name).value)

    # -- the usual reads -------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.text("status")

    @property
    def error(self) -> str:
        return self.text("error")

    @property
    def log(self) -> str:
        return self.text("log")

    @property
    def trace(self) -> str:
        return self.text("trace")


def _options(w: Any) -> list[tuple[str, Any]]:
    out = []
    for opt in w.options:
        if isinstance(opt, tuple):
            out.append((str(opt[0]), opt[1]))
        else:
            out.append((str(opt), opt))
    return out
