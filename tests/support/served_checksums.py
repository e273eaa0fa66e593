"""What the site serves, as checksums: `python -m tests.support.served_checksums` prints them as JSON.

Run in a process of its own against a database (DATABASE_URL) and a media folder (MEDIA_ROOT), as a superuser of
that database, through Django's test client: the API's list of cases (every page), each case's detail with its
events, and each attachment's bytes from the case page's download address. The backup test runs it against the
original database and against the restored one and compares the two answers: a restore that lost a row, a
file or a byte, or that serves something else, shows as a difference.

Output: {"cases": {reference: {"case": sha, "events": sha, "event_count": n,
                               "attachments": {id: {"name": ..., "sha256": sha of the bytes served}}}}}
"""

import hashlib
import json
import os
import sys


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value) -> bytes:
    """JSON with sorted keys and no spacing: the same data always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fetch(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return response


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def served_checksums() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    admin = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if admin is None:
        raise SystemExit("no active superuser in this database")
    client = Client()
    client.force_login(admin)

    listed, url = [], "/api/v1/cases/?page_size=500"
    while url:
        page = fetch(client, url).json()
        listed.extend(page["results"])
        url = page["next"]

    cases = {}
    for summary in listed:
        reference = summary["reference"]
        detail = fetch(client, f"/api/v1/cases/{reference}/").json()
        attachments = {}
        for attachment in detail["attachments"]:
            download = reverse("attachment-download", args=[reference, attachment["id"]])
            served = body(fetch(client, download))
            attachments[str(attachment["id"])] = {"name": attachment["name"], "sha256": digest(served)}
        cases[reference] = {
            "list": digest(canonical(summary)),
            "case": digest(canonical(detail)),
            "events": digest(canonical(detail["events"])),
            "event_count": len(detail["events"]),
            "attachments": attachments,
        }
    return {"cases": cases}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    from django.test.utils import override_settings

    django.setup()
    # The test client's host, whatever ALLOWED_HOSTS the environment gives the site.
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        result = served_checksums()
    json.dump(result, sys.stdout, sort_keys=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
