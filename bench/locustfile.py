"""The simulated officials of the load test (bench/loadtest.py starts locust on this file; see bench/README.md).

Who they are and what they may work on comes from the plan the harness writes (LOADTEST_PLAN, a JSON file): the
accounts of each role with a password set for the run, and for each account its own share of the work (cases to
open, consultations to answer, cases to consult on, submissions to decide), so that two users never race for the
same consultation or submission and every refusal in the figures is a real one.

Each user signs in once in `on_start` (the login page with its CSRF token, or a token from the API); those
requests are named "sign-in: …" and reported apart from the pages. LOADTEST_WAIT is the think time in seconds
("5,15": uniform between five and fifteen; "0": full speed, for the throughput phases).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import FastHttpUser, between, constant, task

PLAN = (json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text(encoding="utf-8")) if os.environ.get("LOADTEST_PLAN")
        else {"accounts": {}, "case_types": []})
_low, _, _high = os.environ.get("LOADTEST_WAIT", "5,15").partition(",")
WAIT = constant(float(_low)) if not _high else between(float(_low), float(_high))
REQUEST_ID = re.compile(r', "request_id": "[0-9a-f]+"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TITLES = ("Xin cấp phép xây dựng nhà ở riêng lẻ", "Đề nghị giao đất, cho thuê đất", "Phản ánh lấn chiếm vỉa hè",
          "Đăng ký kinh doanh hộ cá thể", "Kiến nghị sửa chữa đường giao thông nông thôn")
# Accounts are handed out in turn, per role, to the users locust starts.
_turns: dict[str, itertools.count] = {}


def _account(role: str) -> dict:
    accounts = PLAN["accounts"][role]
    turn = next(_turns.setdefault(role, itertools.count()))
    return accounts[turn % len(accounts)]


def _short(response) -> str:
    # Without the request id, so that one kind of error is one line of locust's failures table.
    text = REQUEST_ID.sub("", (response.text or "")[:300].replace("\n", " "))
    return f"{response.status_code} {text}"


class Official(FastHttpUser):
    abstract = True
    wait_time = WAIT
    role = ""
    # Session for the pages, token for the API: each is one sign-in at the start.
    pages = True
    api = False

    def on_start(self) -> None:
        self.account = _account(self.role)
        self.work = {key: list(value) for key, value in self.account.get("work", {}).items()}
        for pool in self.work.values():
            random.shuffle(pool)
        self.token_headers = {}
        if self.pages:
            self._session_login()
        if self.api:
            self._token_login()

    def _session_login(self) -> None:
        with self.client.get("/accounts/login/", name="sign-in: login page", catch_response=True) as page:
            found = CSRF.search(page.text or "")
            if page.status_code != 200 or not found:
                page.failure(f"no login form: {_short(page)}")
                return
        form = {"username": self.account["username"], "password": self.account["password"],
                "csrfmiddlewaretoken": found.group(1)}
        with self.client.post("/accounts/login/", data=form, name="sign-in: session", allow_redirects=False,
                              catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"login refused: {_short(answer)}")

    def _token_login(self) -> None:
        with self.client.post("/api/v1/auth/token/", name="sign-in: API token", catch_response=True,
                              json={"username": self.account["username"],
                                    "password": self.account["password"]}) as answer:
            if answer.status_code != 200:
                answer.failure(f"no token: {_short(answer)}")
                return
            self.token_headers = {"Authorization": f"Token {answer.json()['token']}"}

    def page(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(_short(answer))

    def api_post(self, path: str, body: dict, name: str, expect: int) -> None:
        with self.client.post(path, json=body, headers=self.token_headers, name=name, catch_response=True) as answer:
            if answer.status_code != expect:
                answer.failure(_short(answer))

    def case_page(self) -> None:
        cases = self.account["cases"]
        if cases:
            self.page(f"/cases/{random.choice(cases)}/", "case page")


class Clerk(Official):
    """The intake desk logs cases through the API, as a one-stop-shop's software does."""

    weight = 20
    role = "clerk"
    pages, api = False, True

    @task
    def intake(self) -> None:
        body = {"title": f"{random.choice(TITLES)} (tải thử)", "case_type": random.choice(PLAN["case_types"]),
                "description": "Hồ sơ tiếp nhận trong phép thử tải.", "applicant_name": "Nguyễn Văn An",
                "applicant_contact": "0912 345 678", "source": "citizen"}
        self.api_post("/api/v1/cases/", body, "intake (API)", 201)


class Specialist(Official):
    """Works the unit's queue, opens cases, and answers the opinions asked of the unit."""

    weight = 35
    role = "specialist"
    api = True

    @task(4)
    def queue(self) -> None:
        self.page("/cases/", "queue: case list")

    @task(4)
    def case(self) -> None:
        self.case_page()

    @task(2)
    def inbox(self) -> None:
        self.page("/consultations/", "consultations inbox")

    @task(1)
    def answer(self) -> None:
        pool = self.work.get("answer")
        if pool:
            self.api_post(f"/api/v1/consultations/{pool.pop()}/respond/", {"position": "agree"},
                          "consultation: answer (API)", 200)


class Head(Official):
    """Watches the queue and the overdue desk, opens cases, and asks other units' opinions."""

    weight = 20
    role = "head"
    api = True

    @task(3)
    def queue(self) -> None:
        self.page("/cases/", "queue: case list")

    @task(3)
    def desk(self) -> None:
        self.page("/overdue/", "overdue desk")

    @task(3)
    def case(self) -> None:
        self.case_page()

    @task(1)
    def ask(self) -> None:
        pool = self.work.get("consult")
        if pool:
            reference, unit = pool.pop()
            self.api_post(f"/api/v1/cases/{reference}/consult/",
                          {"departments": [unit], "question": "Đề nghị cho ý kiến về hồ sơ (tải thử)",
                           "justification": "Hồ sơ liên quan đến chức năng của đơn vị được hỏi."},
                          "consultation: ask (API)", 201)


class CityOffice(Official):
    """The city office's queue of submissions and the City Committee's decisions."""

    weight = 5
    role = "city_office"
    api = True

    @task(2)
    def queue(self) -> None:
        self.page("/submissions/", "submissions queue")

    @task(1)
    def case(self) -> None:
        self.case_page()

    @task(1)
    def decide(self) -> None:
        pool = self.work.get("decide")
        if pool:
            self.api_post(f"/api/v1/cases/{pool.pop()}/decide/", {"outcome": random.choice(("approved", "rejected")),
                                                                  "note": "Đồng ý (tải thử)"}, "decide (API)", 200)


class Bare(FastHttpUser):
    """The floor: a Django view that does one INSERT and answers two bytes, at the think time of the others."""

    weight = 20
    wait_time = WAIT

    @task
    def bare(self) -> None:
        with self.client.post("/bench/bare/", name="bare view", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(_short(answer))
