def membership(request):
    """The signed-in user's staff membership and desk, for the navigation bar and page actions."""
    from cases.selectors import is_clerk, staff_of

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "is_clerk": False}
    return {"membership": staff_of(user), "is_clerk": is_clerk(user)}
