"""Error pages inside the console's layout, with its navigation: 400, 403 (naming the group the
page needs and whom to ask), 404, 500 and the CSRF failure. Each renders with the request, so the
person sees where they are; if rendering the layout itself fails (a 500 may come from the layout),
a plain page without it is sent instead."""

import logging

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.template import loader

from secrets_admin.roles import SECURITY_TEAM

log = logging.getLogger(__name__)

PLAIN = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
    '<body><h1>{title}</h1><p>{text}</p><p><a href="/">Back to the console</a></p></body></html>'
)


def _render(request, status: int, title: str, text: str, context=None) -> HttpResponse:
    context = {"status": status, "title": title, "text": text, **(context or {})}
    try:
        body = loader.get_template(f"errors/{status}.html").render(context, request)
    except Exception:  # the layout may be what failed: fall back to a page that cannot
        log.exception("error page %s could not render in the layout", status)
        body = PLAIN.format(title=title, text=text)
    return HttpResponse(body, status=status)


def bad_request(request, exception=None, template_name=None):
    return _render(request, 400, "Bad request", "The request could not be understood; nothing was changed.")


def permission_denied(request, exception=None, template_name=None):
    groups = getattr(exception, "groups", ())
    user = getattr(request, "user", None)
    context = {"groups": groups, "message": str(exception or "")}
    if user is not None and user.is_authenticated:
        context["my_groups"] = sorted(user.groups.values_list("name", flat=True))
        context["security_team"] = list(
            get_user_model()
            .objects.filter(is_active=True, groups__name=SECURITY_TEAM)
            .exclude(pk=user.pk)
            .order_by("username")
            .values_list("username", flat=True)
        )
    return _render(request, 403, "You do not have access to this page", str(exception or ""), context)


def page_not_found(request, exception=None, template_name=None):
    return _render(request, 404, "Page not found", "There is no page at this address.")


def server_error(request, template_name=None):
    return _render(
        request,
        500,
        "Something went wrong",
        "The console hit an error and did not finish the request. It was logged with the request id.",
    )


def csrf_failure(request, reason=""):
    return _render(
        request,
        403,
        "The form expired",
        "The page was open too long, or cookies are blocked. Go back, reload the page and try again.",
        {"csrf": True},
    )
