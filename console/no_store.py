"""`@no_store` for pages that show a one-time secret: recovery codes, an authenticator key, and
later a break-glass token. No cache — the browser's, a proxy's, or the back/forward cache — may
keep a copy, so the Back button cannot bring the secret back once the person has moved on."""

from functools import wraps

from asgiref.sync import iscoroutinefunction
from django.utils.cache import add_never_cache_headers


def _forbid_storing(response):
    add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
    response["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def no_store(view):
    """View decorator (sync or async views): the response, whatever its status, is never stored."""
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapped(request, *args, **kwargs):
            return _forbid_storing(await view(request, *args, **kwargs))

        return async_wrapped

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return _forbid_storing(view(request, *args, **kwargs))

    return wrapped
