"""The rules' history keeps who edited each version, and the database refuses to change it: the admin shows
deleting such a person as blocked by those versions instead of trying (and failing on the trigger)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from departments import services

pytestmark = pytest.mark.django_db


def test_deleting_a_rule_editor_is_shown_as_blocked_and_nothing_is_lost(signed_in, city):
    # A former admin who edited a rule.
    editor = get_user_model().objects.create_user("rule_editor", is_superuser=True, is_staff=True)
    rule = city.permit_rule
    services.rule_save(data={"legal_basis": "Luật Xây dựng 2014, Điều 103, khoản 3"}, rule=rule, actor=editor,
                       reason="Cập nhật căn cứ pháp lý")
    admin = signed_in("admin")
    url = reverse("admin:auth_user_delete", args=[editor.pk])
    page = admin.get(url)
    assert page.status_code == 200
    assert page.context["protected"] and "rule_editor" in str(page.context["protected"][0])
    assert admin.post(url, {"post": "yes"}).status_code in (200, 403)
    assert get_user_model().objects.filter(pk=editor.pk).exists()
    # Someone who never edited a rule is deleted as before.
    plain = get_user_model().objects.create_user("plain_user")
    assert admin.post(reverse("admin:auth_user_delete", args=[plain.pk]), {"post": "yes"}).status_code == 302
    assert not get_user_model().objects.filter(pk=plain.pk).exists()
