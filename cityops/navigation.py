"""The navigation bar, declared once: every top-level page, the capability that opens it (cases.policy), and
where it sits in the bar. The bar offers exactly the pages the policy opens to the signed-in user, each page is
guarded by the same capability, and a test holds the two together for every role.

A page that takes no argument and is not in the bar is listed in `REACHED_FROM` with the page it is reached
from, so that no page escapes the check.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.policy import Capabilities


@dataclass(frozen=True)
class Link:
    url_name: str
    label: object
    capability: str
    test_id: str
    # Other pages under this link, which light it up as the current one.
    also: tuple[str, ...] = ()
    # A figure beside the link, from a template tag of `casework` (counted only when the link is shown).
    badge: str = ""


@dataclass(frozen=True)
class Menu:
    label: object
    test_id: str
    links: tuple[Link, ...]
    badge: str = ""


OVERSIGHT_PAGES = ("oversight", "inspections", "inspection-new", "inspection-detail", "violations", "violation-new",
                   "violation-detail", "commendations", "commendation-new", "staff-report", "staff-evidence")

NAVIGATION: tuple[Link | Menu, ...] = (
    Link("case-list", _("Our queue"), "queue", "nav-queue", also=("case-detail",)),
    Link("consultations", _("Consultations"), "consultations", "nav-consultations", badge="open_consultations"),
    Link("case-new", _("Intake"), "intake", "nav-intake"),
    Link("triage", pgettext_lazy("page", "Triage"), "intake", "nav-triage"),
    Link("overdue-desk", _("Overdue desk"), "overdue_desk", "nav-overdue-desk"),
    Link("submissions", _("Submissions"), "submissions", "nav-submissions"),
    Menu(_("Reports"), "nav-reports", (
        Link("report-departments", _("Units' performance"), "reports", "nav-report-departments"),
        Link("report-consultations", _("Consultations between units"), "reports", "nav-report-consultations"),
        Link("report-deadlines", _("Deadlines"), "deadline_view", "nav-deadlines"),
    )),
    Menu(_("Oversight"), "nav-oversight", (
        Link("oversight", _("Overview"), "oversee", "nav-oversight-home"),
        Link("inspections", _("Inspections"), "oversee", "nav-inspections"),
        Link("violations", _("Violations"), "oversee", "nav-violations"),
        Link("commendations", _("Commendations"), "oversee", "nav-commendations"),
        Link("staff-report", _("Staff performance"), "oversee", "nav-staff-report"),
    )),
    Menu(_("Administration"), "nav-administration", (
        Link("disputes", _("Rule disputes"), "administer", "nav-disputes", badge="open_disputes"),
        Link("routing-tester", _("Routing tester"), "administer", "nav-routing-tester"),
        Link("admin:index", _("Rules, units and users"), "administer", "nav-admin"),
    ), badge="open_disputes"),
)

# The bell, outside the bar's links, is the notifications' own way in.
BELL = Link("notifications", _("Notifications"), "notifications", "nav-bell")

# Top-level pages reached from another page rather than from the bar: (the page, the page it is reached from).
REACHED_FROM = {
    "home": None,  # the start page, which sends each person to their own work
    "inspection-new": "inspections",
    "violation-new": "violations",
    "commendation-new": "commendations",
    "notifications-read-all": "notifications",  # the list's "mark all as read" (POST only)
    "notifications-latest": "notifications",  # the bell's menu, fetched under the bell
    "notification-mail": "notifications",  # the list's and the bell menu's "e-mail choices"
}


def links() -> list[Link]:
    """Every link of the bar, menus opened, and the bell."""
    found = [BELL]
    for entry in NAVIGATION:
        found.extend(entry.links if isinstance(entry, Menu) else [entry])
    return found


def offered(caps: Capabilities, current: str) -> list[dict]:
    """The bar for one person: each link or menu they may open, with its address and whether it is current."""

    def item(link: Link) -> dict:
        active = current == link.url_name or current in link.also or (
            link.url_name == "oversight" and current in OVERSIGHT_PAGES)
        return {"url": reverse(link.url_name), "label": link.label, "test_id": link.test_id, "badge": link.badge,
                "active": active}

    bar = []
    for entry in NAVIGATION:
        if isinstance(entry, Menu):
            shown = [item(link) for link in entry.links if caps[link.capability]]
            if shown:
                bar.append({"menu": True, "label": entry.label, "test_id": entry.test_id, "links": shown,
                            "badge": entry.badge, "active": any(link["active"] for link in shown)
                            or (entry.test_id == "nav-oversight" and current in OVERSIGHT_PAGES)})
        elif caps[entry.capability]:
            bar.append(item(entry))
    return bar
