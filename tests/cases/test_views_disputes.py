"""The administrators' page of rule disputes (DESIGN.md §2 rule 5): listed, filtered and settled."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import DisputeStatus, EventAction, RuleDispute
from cases.services import case_dispute, dispute_settle

URL = reverse("disputes")


def settle_url(dispute):
    return reverse("dispute-settle", args=[dispute.pk])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


def ids(response):
    return [row["dispute"].pk for row in response.context["rows"]]


@pytest.fixture
def file_dispute(city, stages):
    def file(reason="Quy định giao nhầm thẩm quyền cho Sở Xây dựng", **fields):
        return case_dispute(case=stages.routed(**fields), actor=city.user("specialist"), reason=reason)

    return file


def test_the_admin_sees_open_disputes_oldest_first(signed_in, city, file_dispute):
    first = file_dispute(title="Cấp phép nhà số 1")
    second = file_dispute(title="Cấp phép nhà số 2", reason="Thuộc thẩm quyền UBND phường")
    settled = file_dispute(title="Cấp phép nhà số 3")
    dispute_settle(dispute=settled, actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Giữ nguyên")
    response = signed_in("admin").get(URL)
    assert response.status_code == 200
    assert ids(response) == [first.pk, second.pk]
    html = response.content.decode()
    rule_admin = reverse("admin:departments_authorityrule_change", args=[city.permit_rule.pk])
    for text in [f'href="{rule_admin}"', f'href="{reverse("case-detail", args=[first.case.reference])}"',
                 "Sở Xây dựng", "Phạm Minh Tuấn", "Thuộc thẩm quyền UBND phường", f'action="{settle_url(first)}"']:
        assert text in html, text
    assert settled.case.reference not in html


def test_the_status_filter(signed_in, city, file_dispute):
    open_one = file_dispute()
    dismissed = file_dispute()
    dispute_settle(dispute=dismissed, actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Giữ nguyên")
    client = signed_in("admin")
    assert ids(client.get(URL, {"status": "dismissed"})) == [dismissed.pk]
    assert ids(client.get(URL, {"status": "rule_changed"})) == []
    assert ids(client.get(URL, {"status": "any"})) == [dismissed.pk, open_one.pk]  # newest first
    assert ids(client.get(URL, {"status": "bogus"})) == [open_one.pk]  # a bad value falls back to open
    html = client.get(URL, {"status": "dismissed"}).content.decode()
    assert 'data-test="settle-form"' not in html
    assert "Giữ nguyên" in html


@pytest.mark.parametrize("role", ["head", "specialist", "clerk", "city_office", "inspector", "home_affairs",
                                  "nobody"])
def test_only_admins_may_see_or_settle_disputes(signed_in, file_dispute, role):
    dispute = file_dispute()
    client = signed_in(role)
    assert client.get(URL).status_code == 403
    assert client.post(settle_url(dispute), {"status": "dismissed", "note": "Giữ nguyên"}).status_code == 403
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN


def test_anonymous_is_sent_to_login(signed_in, file_dispute):
    dispute = file_dispute()
    client = signed_in("anonymous")
    for response in [client.get(URL), client.post(settle_url(dispute), {"status": "dismissed", "note": "x"})]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_wrong_methods(signed_in, file_dispute):
    dispute = file_dispute()
    client = signed_in("admin")
    assert client.post(URL).status_code == 405
    assert client.get(settle_url(dispute)).status_code == 405


def test_an_unknown_dispute_is_404(signed_in):
    assert signed_in("admin").post(reverse("dispute-settle", args=[999]), {"status": "dismissed",
                                                                          "note": "x"}).status_code == 404


@pytest.mark.parametrize("status", [DisputeStatus.RULE_CHANGED, DisputeStatus.DISMISSED])
def test_settling_a_dispute(signed_in, city, file_dispute, status):
    dispute = file_dispute()
    response = signed_in("admin").post(settle_url(dispute), {"status": status, "note": "Đã sửa quy định số 1",
                                                             "next": f"{URL}?status=open"})
    assert response.status_code == 302
    assert response.url == f"{URL}?status=open"
    dispute.refresh_from_db()
    assert (dispute.status, dispute.settled_by, dispute.settlement_note) == (status, city.user("admin"),
                                                                            "Đã sửa quy định số 1")
    event = dispute.case.events.order_by("-id").first()
    assert (event.action, event.payload["settlement"]) == (EventAction.DISPUTE_SETTLED, status)
    assert [level for level, _text in messages_of(response)] == ["success"]


@pytest.mark.parametrize(("data", "field"), [({"status": "dismissed", "note": "  "}, "Settlement note"),
                                             ({"status": "open", "note": "Giữ nguyên"}, "Settlement"),
                                             ({"note": "Giữ nguyên"}, "Settlement")])
def test_a_settlement_needs_an_outcome_and_a_note(signed_in, file_dispute, data, field):
    dispute = file_dispute()
    response = signed_in("admin").post(settle_url(dispute), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.url == URL
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert not dispute.case.events.filter(action=EventAction.DISPUTE_SETTLED).exists()
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert f"{field}: " in text


def test_a_dispute_is_settled_once(signed_in, city, file_dispute):
    dispute = file_dispute()
    dispute_settle(dispute=dispute, actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Giữ nguyên")
    response = signed_in("admin").post(settle_url(dispute), {"status": "rule_changed", "note": "Sửa quy định"},
                                       follow=True)
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DISMISSED
    assert dispute.case.events.order_by("-id").first().payload["code"] == "invalid_transition"
    assert 'data-refusal="true"' in response.content.decode()


def test_the_admins_navigation_counts_open_disputes(signed_in, city, file_dispute):
    client = signed_in("admin")
    assert 'data-test="nav-open-disputes"' not in client.get(URL).content.decode()
    file_dispute()
    file_dispute()
    html = client.get(URL).content.decode()
    assert 'data-test="nav-disputes"' in html
    assert re.search(r'data-test="nav-open-disputes"[^>]*>(\d+)</span>', html).group(1) == "2"


def test_others_have_no_link_to_it(signed_in):
    assert b'data-test="nav-disputes"' not in signed_in("head").get(reverse("case-list")).content


def test_the_query_count_does_not_grow_with_disputes(signed_in, file_dispute):
    client = signed_in("admin")
    counts = {}
    for added, total in ((1, 1), (9, 10)):
        for _ in range(added):
            file_dispute()
        client.get(URL)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.context["rows"]) == total
        counts[total] = len(queries)
    assert counts[1] == counts[10], counts
    assert RuleDispute.objects.count() == 10
