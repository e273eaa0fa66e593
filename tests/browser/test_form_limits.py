"""static/js/form-limits.js in a real browser, on a page of its own: a form over a field's limit or the body limit
is stopped before it is sent, says why beside the field, and keeps what was typed."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

FORMS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="cityops-form-limits" content="1048576" data-text-chars="At most {limit} characters; there are {count}."
      data-text-bytes="{size} MB of {limit} MB."></head><body>
<form method="post" action="/sent" id="fields"><textarea name="description" maxlength="10"></textarea>
  <input name="note" data-max-chars="5"><button>Send</button></form>
<form method="post" action="/sent" id="whole"><textarea name="description"></textarea><button>Send</button></form>
<form method="post" action="/sent" id="own" data-max-bytes="50"><input name="q"><button>Send</button></form>
</body></html>"""


def test_the_limits_script_stops_a_form_over_a_limit_and_keeps_what_was_typed(browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        sent = []
        page.route("**/sent", lambda route: (sent.append(route.request.post_data), route.fulfill(body="sent")))
        page.route("http://cityops.test/", lambda route: route.fulfill(body=FORMS, content_type="text/html"))
        page.goto("http://cityops.test/")
        page.add_script_tag(path=str(settings.BASE_DIR / "static" / "js" / "form-limits.js"))

        # Set by a script (as a restored draft would be): the browser's own maxlength check lets it through.
        page.eval_on_selector("#fields textarea", "field => { field.value = 'x'.repeat(12); }")
        page.fill("#fields input", "sáu chữ")
        page.click("#fields button")
        messages = page.locator("#fields [data-form-limit-message]").all_text_contents()
        invalid = page.locator("#fields .is-invalid").count()
        page.fill("#whole textarea", "y" * 1_200_000)
        page.click("#whole button")
        whole = page.locator("#whole .alert-danger").text_content()
        page.fill("#own input", "z" * 60)
        page.click("#own button")
        own = page.locator("#own .alert-danger").count()
        kept = page.input_value("#whole textarea")
        page.fill("#own input", "ngắn")
        page.click("#own button")
        page.wait_for_url("**/sent")
    finally:
        context.close()

    assert messages == ["At most 10 characters; there are 12.", "At most 5 characters; there are 7."]
    assert invalid == 2
    assert whole == "1.1 MB of 1 MB."
    assert own == 1 and kept == "y" * 1_200_000
    assert sent == ["q=ng%E1%BA%AFn"]
