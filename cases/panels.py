"""Panels another app adds to the case page (oversight: the violations recorded on a case), so that the cases
app shows them without knowing their models (STYLE.md §15)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CasePanel:
    template: str
    # (user, case) -> the panel's context, or None when the user is not to see it or it has nothing to show.
    context: Callable[[Any, Any], dict | None]


_panels: list[CasePanel] = []


def register_case_panel(panel: CasePanel) -> None:
    """Called by an app's `ready()`."""
    if panel not in _panels:
        _panels.append(panel)


def case_panels(user, case) -> list[dict]:
    """The panels this user sees on this case: each a template and its context."""
    shown = []
    for panel in _panels:
        context = panel.context(user, case)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown
