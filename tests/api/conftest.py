"""Clients for the API tests: one per role of the shared `city` fixture, signed in through the session."""

import pytest
from rest_framework.test import APIClient

ROLES = ["head", "deputy", "specialist", "clerk", "consulted_head", "consulted_specialist", "outsider_head",
         "outsider_specialist", "city_office", "inspector", "home_affairs", "admin", "nobody"]
NON_ADMINS = [role for role in ROLES if role != "admin"]
NON_CLERKS = [role for role in NON_ADMINS if role != "clerk"]


@pytest.fixture
def api(city):
    """`api("clerk")` is a client signed in as that user; `api()` is anonymous."""

    def client_for(username=None):
        client = APIClient()
        if username:
            client.force_login(city.user(username))
        return client

    return client_for
