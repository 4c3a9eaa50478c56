"""{% secret_rotation secret %}: the secret page's rotation panel (its runs, its hook, the
"Rotate now" button), rendered by this app so the inventory page needs no rotation queries."""

from django import template

from secrets_admin.rotation.hooks import hook_for
from secrets_admin.rotation.models import RotationRun

register = template.Library()
RUNS_SHOWN = 10


@register.inclusion_tag("rotation/_secret_panel.html", takes_context=True)
def secret_rotation(context, secret):
    runs = list(RotationRun.objects.filter(secret=secret)[: RUNS_SHOWN + 1])
    return {
        "secret": secret,
        "runs": runs[:RUNS_SHOWN],
        "more_runs": len(runs) > RUNS_SHOWN,
        "hook": hook_for(secret),
        "user_groups": context.get("user_groups", ()),
    }
