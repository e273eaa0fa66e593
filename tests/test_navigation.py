"""The navigation bar offers exactly the pages the access policy opens (STYLE.md §13): for every login of the
demo city, every link it offers answers 200, and every top-level page that answers 200 is offered by the bar
(or by the page it is reached from, `cityops.navigation.REACHED_FROM`)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, reverse

from cityops import navigation
from departments import demo

# The project's own pages: the admin's, the sign-in's, the language switch's and the API's are not the bar's,
# nor the health answers for load balancers.
NOT_PAGES = ("admin/", "accounts/", "i18n/", "api/", "healthz/", "readyz/")
DEMO_LOGINS = [username for username, *_rest in demo.USERS] + [demo.SUPERUSER[0]]


def top_level_pages() -> dict[str, str]:
    """{url name: address} of every page that takes no argument."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif not pattern.pattern.converters and "(?P" not in str(pattern.pattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern.name

    return {name: reverse(name) for route, name in walk(get_resolver().url_patterns)
            if not route.startswith(NOT_PAGES)}


def offered_links(html: str) -> set[str]:
    """The addresses the bar and the bell link to (the brand's link to the start page apart)."""
    bar = html[html.index("<nav"):html.index("</nav>")]
    return set(re.findall(r'href="(/[^"#]+)"', bar)) - {reverse("home")}


@pytest.fixture
def demo_city(db):
    call_command("load_demo", quiet=True)


def test_every_page_is_in_the_bar_or_reached_from_one():
    in_bar = {link.url_name for link in navigation.links()}
    for name in top_level_pages():
        assert name in in_bar or name in navigation.REACHED_FROM, f"{name}: add it to the bar or REACHED_FROM"


def what_the_bar_and_the_pages_say(client, username) -> list[str]:
    """What is wrong for one login: an offered link that does not open, a page that opens but is not offered."""
    client.force_login(get_user_model().objects.get(username=username))
    offered = offered_links(client.get(reverse("notifications")).content.decode())
    pages = top_level_pages()
    wrong = [f"{username}: {address} is offered but answers {status}" for address in sorted(offered)
             if (status := client.get(address).status_code) != 200]
    for name, address in pages.items():
        if client.get(address).status_code != 200:
            continue
        parent = navigation.REACHED_FROM.get(name, name)
        if parent is not None and pages.get(parent, reverse(parent)) not in offered:
            wrong.append(f"{username}: {address} opens but is not offered")
    # The bar links to the admin only for those it opens to.
    if (reverse("admin:index") in offered) != (username == demo.SUPERUSER[0]):
        wrong.append(f"{username}: the admin link")
    return wrong


def test_the_bar_offers_exactly_the_pages_that_open(client, demo_city):
    """Every login of the demo city, one after the other on the same demo city."""
    wrong = [line for username in DEMO_LOGINS for line in what_the_bar_and_the_pages_say(client, username)]
    assert wrong == []


def test_the_chairman_is_offered_the_city_views(client, demo_city):
    client.force_login(get_user_model().objects.get(username="ubnd.chutich"))
    offered = offered_links(client.get(reverse("notifications")).content.decode())
    assert {reverse("report-deadlines"), reverse("report-departments"), reverse("overdue-desk")} <= offered
