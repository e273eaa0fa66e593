"""The Content-Security-Policy admits no inline script or style, and nothing the site serves needs one: each page
an official or an admin opens, in a real browser at a phone's width and a desk's, reports no violation of it, and
the pages that draw with a script (the charts, the API's documentation) still draw."""

from __future__ import annotations

import pytest

from cases.services import case_accept

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1366, "height": 900}}

# What each person opens: the queues, a case, the reports with their charts, the admin, the API's docs.
PAGES = {
    "head": ["/", "/cases/", "/overdue/", "/reports/departments/", "/consultations/", "/notifications/"],
    "inspector": ["/reports/deadlines/", "/oversight/staff-report/", "/reports/departments/"],
    "admin": ["/admin/", "/admin/cases/case/", "/admin/core/personaldataread/", "/api/docs/"],
}


def watch_violations(page) -> list[str]:
    """Every CSP violation the page reports, from the browser's own event, across navigations."""
    seen: list[str] = []
    page.expose_function("cspViolation", lambda text: seen.append(text))
    page.add_init_script("""document.addEventListener('securitypolicyviolation', (event) => {
        window.cspViolation(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
    });""")
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    return seen


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("person", sorted(PAGES))
def test_no_page_breaks_the_policy(page, sign_in, snapshot, city, log_case, person, width):
    case_accept(case=log_case(title="Cấp phép xây dựng nhà ở số 7 Trần Phú"), actor=city.user("specialist"))
    violations = watch_violations(page)
    sign_in(person)
    # After signing in: on a phone the bar that names the person is folded away.
    page.set_viewport_size(WIDTHS[width])
    for path in [*PAGES[person], f"/cases/{log_case().reference}/" if person == "head" else None]:
        if path is None:
            continue
        response = page.goto(path)
        assert response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if path == "/reports/departments/":
            page.wait_for_selector("#department-chart[data-ready]", state="attached")
            page.wait_for_selector("#department-overdue-chart[data-ready]", state="attached")
        if path == "/reports/deadlines/":
            page.wait_for_selector("#deadline-chart[data-ready]", state="attached")
        if path == "/api/docs/":
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        snapshot(f"csp-{person}-{width}-{path.strip('/').replace('/', '-') or 'home'}")
        assert violations == [], f"{path}: {violations}"
