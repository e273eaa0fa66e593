"""Hardened responses: the deployment checks, the start-up refusal without a key, and the headers of pages and API
answers (CSP without inline script or style, Permissions-Policy, no-store wherever someone's data may be)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.support.api import issue_token

ROOT = Path(__file__).resolve().parents[2]
KEY = "k3y-for-the-deploy-check-" + "x" * 40


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py` as the city's IT staff start it: the real settings module, only the variables given."""
    clean = {name: value for name, value in os.environ.items()
             if name not in {"DEBUG", "SECRET_KEY", "HTTPS", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE",
                             "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
                             # Set by the browser tests' conftest in the same process; never in deployment.
                             "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "cityops.settings", **env}, timeout=120)


def warning_ids(output: str) -> set[str]:
    return set(re.findall(r"\(security\.(W\d{3})\)", output))


def test_the_deploy_check_passes_with_only_debug_off_a_key_and_the_hosts():
    result = manage("check", "--deploy", DEBUG="0", SECRET_KEY=KEY, ALLOWED_HOSTS="cityops.example.vn")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert warning_ids(result.stdout + result.stderr) == set()


def test_plain_http_for_an_intranet_makes_the_deploy_check_warn():
    result = manage("check", "--deploy", DEBUG="0", SECRET_KEY=KEY, ALLOWED_HOSTS="intranet", HTTPS="false")
    # Redirect, HSTS and the two cookies' Secure flag are what HTTPS=false turns off; nothing else.
    assert warning_ids(result.stdout + result.stderr) == {"W004", "W008", "W012", "W016"}


def test_without_a_secret_key_the_site_does_not_start_and_names_the_variable():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="cityops.example.vn")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_a_local_trial_with_debug_on_runs_on_the_development_key():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.django_db
def test_a_signed_in_page_is_never_cached_and_admits_no_inline_script_or_style(signed_in):
    response = signed_in("head").get(reverse("case-list"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    policy = csp_directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # And nothing in the page would need them: no inline script, style or handler in what the templates render.
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", html)
    assert not re.search(r"<style|\sstyle=\"|\son[a-z]+=\"", html)


@pytest.mark.django_db
def test_every_api_answer_is_never_cached_even_a_refusal(city):
    client = Client(HTTP_AUTHORIZATION=f"Token {issue_token(city.user('clerk'))}")
    for path, expected in [("/api/v1/cases/", 200), ("/api/v1/cases/HS-NONE/", 404)]:
        response = client.get(path)
        assert response.status_code == expected
        assert "no-store" in response["Cache-Control"], path
        assert "Permissions-Policy" in response
    anonymous = Client().get("/api/v1/cases/")
    assert anonymous.status_code == 401
    assert "no-store" in anonymous["Cache-Control"]


@pytest.mark.django_db
def test_an_anonymous_page_carries_the_policy_too(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                   SECURE_HSTS_PRELOAD=True,
                   SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_over_https_behind_a_proxy_hsts_and_secure_cookies(city):
    plain = Client().get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    # The proxy ended TLS and says so; the answer then carries HSTS, and the cookies are Secure.
    proxied = Client(HTTP_X_FORWARDED_PROTO="https")
    page = proxied.get(reverse("login"))
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.cookies["csrftoken"]["secure"] is True
    user = city.user("head")
    user.set_password("Mật-khẩu-đủ-dài-2026")
    user.save()
    signed = proxied.post(reverse("login"), {"username": user.username, "password": "Mật-khẩu-đủ-dài-2026"})
    assert signed.status_code == 302
    assert signed.cookies["sessionid"]["secure"] is True
    assert signed.cookies["sessionid"]["httponly"] is True
