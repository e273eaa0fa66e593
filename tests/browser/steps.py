"""Steps the browser journeys share."""


def confirm(page, snapshot=None, name=""):
    """The second step of a move that cannot be taken back: the page says what it will do; say yes."""
    page.wait_for_selector("[data-test=confirm-action]")
    if snapshot is not None:
        snapshot(name)
    page.click("[data-test=confirm-button]")
