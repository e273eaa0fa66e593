def membership(request):
    """The signed-in user's staff membership, for the navigation bar."""
    user = getattr(request, "user", None)
    staff = getattr(user, "staff", None) if user is not None and user.is_authenticated else None
    return {"membership": staff}
