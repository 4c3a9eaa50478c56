"""Inventory pages. Thin: access check, a form or a query, one service call, render or redirect.

Everyone in a console group may read the inventory (DESIGN.md matrix); editing, registering and
'Sync now' are for the security team, and editing/registering also need a one-time code.
Templates show buttons from `user_groups` (the accounts context processor, one lazy query
shared with the nav); the server-side checks are the decorators.
"""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from secrets_admin.accounts.access import require_groups
from secrets_admin.accounts.stepup import StepUpFailed
from secrets_admin.backends.advice import advice
from secrets_admin.backends.base import BackendError
from secrets_admin.inventory import live, paging
from secrets_admin.inventory.filters import SORTS, SecretFilter
from secrets_admin.inventory.forms import CreateForm, ImportForm, MetadataForm
from secrets_admin.inventory.models import Secret, SyncRun
from secrets_admin.inventory.services.edit import do_update_metadata
from secrets_admin.inventory.services.register import do_create_secret, do_import_secret
from secrets_admin.inventory.services.sync_now import do_request_sync
from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM

log = logging.getLogger(__name__)


@contextmanager
def _refusals_into(form, refused: str):
    """Turn a service's refusal into form errors (the service changed nothing when it raised):
    a bad one-time code on the code field, anything else on the form."""
    try:
        yield
    except StepUpFailed as exc:
        form.add_error("otp_code", exc)
    except ValidationError as exc:
        form.add_error(None, exc)
    except BackendError as exc:
        log.warning("%s: %s", refused, exc)  # the backend's own words stay in the log
        form.add_error(None, f"Nothing was saved. {advice(exc)}")


VIEWERS = (DEVELOPERS, SECURITY_TEAM, CTO, MANAGERS)
PAGE_SIZE = 25
# "More than 1,000" beyond this. Counting past the cap costs rows read, and a filter no btree
# answers (a tag a third of the estate holds) reads the table until it has COUNT_CAP + 1 matches:
# 10,001 cost 14 ms at 1M against 0.5 ms for the whole 1k estate; 1,001 cost 1.3 ms.
COUNT_CAP = 1_000
LIST_COLUMNS = (
    "path",
    "name",
    "backend",
    "kind",
    "environment",
    "owner_team",
    "status",
    "next_due",
    "last_rotated",
    "expires_at",  # a certificate's status reads "expires in 4 days"
)


def _query(request, **changes) -> str:
    params = request.GET.copy()
    for key in ("after", "before", "last"):
        params.pop(key, None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@require_groups(*VIEWERS)
@require_GET
def secret_list(request):
    following = live.page_context("banner")
    filterset = SecretFilter(request.GET, queryset=Secret.objects.only(*LIST_COLUMNS))
    sort = request.GET.get("sort", "path")
    if sort.lstrip("-") not in SORTS:
        sort = "path"
    # An invalid filter lists nothing (not every secret) and says what to fix.
    filter_invalid = not filterset.is_valid()
    qs = Secret.objects.none() if filter_invalid else filterset.qs
    searching = not filter_invalid and bool((filterset.form.cleaned_data.get("q") or "").strip())
    count, qs = _count_capped(qs, reuse_ids=searching)
    page = paging.paginate(
        qs,
        sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        last="last" in request.GET,
        size=PAGE_SIZE,
    )
    columns = [
        {
            "key": key,
            "label": label,
            "active": sort.lstrip("-") == key,
            "descending": sort == f"-{key}",
            "url": "?" + _query(request, sort=f"-{key}" if sort == key else key),
        }
        for key, label in SORTS.items()
        if key != "name"
    ]
    base = _query(request)
    context = {
        **following,
        "filter": filterset,
        "page": page,
        "columns": columns,
        "count": min(count, COUNT_CAP),
        "count_capped": count > COUNT_CAP,
        "first_url": "?" + base,
        "next_url": f"?{base}&after={page.next_cursor}" if page.has_next else "",
        "prev_url": f"?{base}&before={page.prev_cursor}" if page.has_prev else "",
        "last_url": f"?{base}&last=1",
        "filter_invalid": filter_invalid,
    }
    return render(request, "inventory/secret_list.html", context, status=400 if filter_invalid else 200)


def _count_capped(qs, *, reuse_ids: bool):
    """(matching rows up to COUNT_CAP + 1, the queryset to page). A search fetches the matching
    ids instead of counting them and, when that is all of them, the page reads those rows by
    primary key: the trigram match, whose index scan grows with the table however few rows
    match, runs once per page instead of twice. Same query count either way."""
    if not reuse_ids:
        return qs.order_by()[: COUNT_CAP + 1].count(), qs
    ids = list(qs.order_by().values_list("pk", flat=True)[: COUNT_CAP + 1])
    if len(ids) > COUNT_CAP:
        return len(ids), qs
    return len(ids), Secret.objects.only(*LIST_COLUMNS).filter(pk__in=ids)


@require_groups(*VIEWERS)
@require_GET
def secret_detail(request, pk):
    secret = get_object_or_404(Secret.objects.select_related("rotation_policy"), pk=pk)
    versions = list(secret.versions.all()[:51])
    context = {
        "secret": secret,
        "versions": versions[:50],
        "more_versions": len(versions) > 50,
        "last_run": SyncRun.objects.filter(backend=secret.backend).defer("errors").first(),
    }
    return render(request, "inventory/secret_detail.html", context)


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def secret_edit(request, pk):
    secret = get_object_or_404(Secret, pk=pk)
    initial = {"owner_team": secret.owner_team, "environment": secret.environment, "purpose": secret.purpose}
    form = MetadataForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and secret.writable and form.is_valid():
        changes = {key: form.cleaned_data[key] for key in ("owner_team", "environment", "purpose")}
        with _refusals_into(form, f"{secret.backend} refused the change"):
            do_update_metadata(
                secret.pk,
                actor=request.user,
                changes=changes,
                otp=form.cleaned_data["otp_code"],
                request=request,
            )
            messages.success(request, f"Saved, and written to {secret.backend}.")
            return redirect(secret)
    return render(
        request, "inventory/secret_edit.html", {"secret": secret, "form": form}, status=_status(form)
    )


@require_groups(SECURITY_TEAM)
@require_http_methods(["GET", "POST"])
def secret_register(request):
    action = request.POST.get("action") if request.method == "POST" else None
    import_form = ImportForm(request.POST if action == "import" else None, prefix="import")
    create_form = CreateForm(request.POST if action == "create" else None, prefix="create")
    form = {"import": import_form, "create": create_form}.get(action)
    if request.method == "POST" and form is None:
        messages.error(request, "Choose whether to import an existing secret or create a new one.")
    elif form is not None and form.is_valid():
        data = form.cleaned_data
        with _refusals_into(form, f"{data['backend']} refused"):
            if action == "import":
                secret = do_import_secret(
                    data["backend"], data["path"], actor=request.user, otp=data["otp_code"], request=request
                )
            else:
                metadata = {key: data[key] for key in ("owner_team", "environment", "purpose")}
                secret = do_create_secret(
                    data["backend"],
                    data["path"],
                    actor=request.user,
                    otp=data["otp_code"],
                    kind=data["kind"],
                    metadata=metadata,
                    request=request,
                )
            messages.success(request, f"{secret.path} is in the inventory.")
            return redirect(secret)
    context = {"import_form": import_form, "create_form": create_form, "action": action}
    status = 400 if request.method == "POST" and form is None else _status(form)
    return render(request, "inventory/secret_register.html", context, status=status)


@require_groups(*VIEWERS)
@require_GET
def run_list(request):
    context = {
        **live.page_context("banner", "runs"),
        "runs": live.recent_runs(),
        "runs_shown": live.RUNS_SHOWN,
        "backends": list(settings.SECRET_BACKENDS),
    }
    return render(request, "inventory/run_list.html", context)


@require_groups(*VIEWERS)
@require_GET
def run_detail(request, pk):
    following = live.page_context("run", run=pk)
    run = get_object_or_404(SyncRun, pk=pk)
    context = {"run": run, "live_url": following["live_url"] if run.is_running else ""}
    return render(request, "inventory/run_detail.html", context)


@require_groups(SECURITY_TEAM)
@require_POST
def sync_now(request):
    backend = request.POST.get("backend", "")
    try:
        do_request_sync(backend, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("inventory:runs")
    messages.info(request, f"Sync of {backend} queued; progress shows below.")
    return redirect("inventory:runs")


def _status(form) -> int:
    return 400 if form is not None and form.is_bound and form.errors else 200
