from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from console.health import readiness


@login_required
def home(request):
    """Landing page: who you are, and whether every backend the console needs is reachable."""
    return render(
        request,
        "console/home.html",
        {"checks": readiness(), "groups": sorted(request.user.groups.values_list("name", flat=True))},
    )
