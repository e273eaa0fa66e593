"""The admin settles rule disputes through the service and only reads what the other services write."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Attachment, Case, CaseEvent, DisputeStatus, Return, RuleDispute, Status, Submission
from cases.services import (
    attachment_add,
    case_accept,
    case_dispute,
    case_return,
    case_submit,
    dispute_settle,
)
from departments.models import AuthorityRule, CaseType, DecisionLevel
from tests.support.cases import PDF_BYTES


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.user("admin"))
    return client


@pytest.fixture
def disputes(city, log_case):
    return [case_dispute(case=log_case(), actor=city.user(name), reason=f"Quy định chưa đúng ({name})")
            for name in ("specialist", "head")]


@pytest.fixture
def written_rows(city, log_case, settings, tmp_path):
    """One return, one submission and one attachment, each written by its service."""
    settings.MEDIA_ROOT = tmp_path
    returned = log_case()
    attachment_add(case=returned, actor=city.user("clerk"),
                   upload=SimpleUploadedFile("don.pdf", PDF_BYTES, content_type="application/pdf"))
    city.permit_rule.owner = city.outsider
    city.permit_rule.save()
    case_return(case=returned, actor=city.user("specialist"), reason="Không thuộc chức năng")
    planning = CaseType.objects.create(code="urban-plan", name="Điều chỉnh quy hoạch", processing_days=10)
    AuthorityRule.objects.create(case_type=planning, owner=city.owner, decision_level=DecisionLevel.CITY_COMMITTEE)
    submitted = case_accept(case=log_case(case_type=planning), actor=city.user("head"))
    case_submit(case=submitted, actor=city.user("head"), summary="Tờ trình")
    return {Return: Return.objects.get(), Submission: Submission.objects.get(), Attachment: Attachment.objects.get()}


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def choose(action, disputes, **extra):
    return {"action": action, "_selected_action": [d.pk for d in disputes], **extra}


def test_dispute_list_filters_by_status_and_department(admin_client, disputes):
    response = admin_client.get(url(RuleDispute, "changelist"))

    assert response.status_code == 200
    assert [spec.field_path for spec in response.context["cl"].filter_specs] == ["status", "department"]
    assert len(response.context["cl"].result_list) == 2
    assert admin_client.get(url(RuleDispute, "changelist"), {"status__exact": "dismissed"}
                            ).context["cl"].result_count == 0


def test_a_dispute_links_to_its_rule(admin_client, city, disputes):
    rule_page = url(AuthorityRule, "change", city.permit_rule.pk)

    listing = admin_client.get(url(RuleDispute, "changelist")).content.decode()
    detail = admin_client.get(url(RuleDispute, "change", disputes[0].pk))

    assert f'href="{rule_page}"' in listing
    assert detail.status_code == 200
    assert f'href="{rule_page}"' in detail.content.decode()


def test_settling_asks_for_a_note_first(admin_client, disputes):
    response = admin_client.post(url(RuleDispute, "changelist"), choose("settle_rule_changed", disputes))

    assert response.status_code == 200
    assert "settle.html" in response.templates[0].name
    assert 'name="note"' in response.content.decode()
    assert not RuleDispute.objects.exclude(status=DisputeStatus.OPEN).exists()


@pytest.mark.parametrize(("action", "status"), [("settle_rule_changed", DisputeStatus.RULE_CHANGED),
                                                ("settle_dismissed", DisputeStatus.DISMISSED)])
def test_settling_with_a_note_goes_through_the_service(admin_client, city, disputes, action, status):
    response = admin_client.post(url(RuleDispute, "changelist"),
                                 choose(action, disputes, apply="1", note="Đã rà soát quy định"))

    assert response.status_code == 302
    for dispute in RuleDispute.objects.all():
        assert (dispute.status, dispute.settled_by, dispute.settlement_note) == (
            status, city.user("admin"), "Đã rà soát quy định")
        event = CaseEvent.objects.filter(case=dispute.case).latest("id")
        assert (event.action, event.actor, event.payload["settlement"]) == (
            "dispute_settled", city.user("admin"), status)


def test_an_empty_note_settles_nothing(admin_client, disputes):
    response = admin_client.post(url(RuleDispute, "changelist"),
                                 choose("settle_dismissed", disputes, apply="1", note=""))

    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    assert RuleDispute.objects.filter(status=DisputeStatus.OPEN).count() == 2
    assert not CaseEvent.objects.filter(action="dispute_settled").exists()


def test_already_settled_disputes_are_left_alone_with_a_warning(admin_client, city, disputes):
    dispute_settle(dispute=disputes[0], actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Trước đó")

    response = admin_client.post(url(RuleDispute, "changelist"),
                                 choose("settle_rule_changed", disputes, apply="1", note="Đã sửa"), follow=True)

    texts = [str(message) for message in response.context["messages"]]
    assert any(disputes[0].case.reference in text for text in texts)
    settled = {d.pk: (d.status, d.settlement_note) for d in RuleDispute.objects.all()}
    assert settled == {disputes[0].pk: (DisputeStatus.DISMISSED, "Trước đó"),
                       disputes[1].pk: (DisputeStatus.RULE_CHANGED, "Đã sửa")}


def test_a_staff_user_who_is_not_superuser_cannot_settle(client, city, disputes):
    from django.contrib.auth.models import Permission

    clerk = city.user("head")
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_ruledispute", "change_ruledispute"]))
    client.force_login(clerk)

    listing = client.get(url(RuleDispute, "changelist"))
    client.post(url(RuleDispute, "changelist"), choose("settle_dismissed", disputes, apply="1", note="x"))

    assert listing.status_code == 200
    assert "settle_dismissed" not in listing.content.decode()
    assert RuleDispute.objects.filter(status=DisputeStatus.OPEN).count() == 2


@pytest.mark.parametrize("model", [RuleDispute, Return, Submission, Attachment])
def test_written_rows_are_never_added_changed_or_deleted_in_the_admin(admin_client, disputes, written_rows, model):
    row = written_rows.get(model) or disputes[0]
    before = model.objects.filter(pk=row.pk).values().get()

    listing = admin_client.get(url(model, "changelist"))
    page = admin_client.get(url(model, "change", row.pk))
    posted = admin_client.post(url(model, "change", row.pk), {"reason": "sửa", "summary": "sửa", "status": "open"})

    assert listing.status_code == page.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert not page.context["adminform"].form.fields
    assert posted.status_code == 403
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).values().get() == before


def test_case_admin_shows_the_new_facts_read_only(admin_client, city, log_case):
    case = case_accept(case=log_case(), actor=city.user("specialist"))

    form = admin_client.get(url(Case, "change", case.pk)).context["adminform"].form

    assert {"status", "owner", "assignee", "accepted_at", "resolved_at", "outcome", "version",
            "supplement_items"}.isdisjoint(form.fields)
    # The clerical fields, and the version the page showed (hidden), which the correction service checks.
    assert set(form.fields) == {"title", "description", "applicant_name", "applicant_contact", "seen_version"}
    assert form.fields["seen_version"].widget.is_hidden
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
