"""How the audit page speaks: actors, actions and target types in words, and each entry as one
sentence whose target links to the object it is about.

Sentences come from the action registry (`actions.register(..., sentence=...)`); an action
without one is worded from its description. Nothing here is hashed or stored: wording can change
without touching the chain.
"""

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import capfirst

from secrets_admin.audit import actions

# Actor names that are not people (the ledger copies them as given).
NOT_PEOPLE = {
    "system": "the console",
    "anonymous": "someone not logged in",
    "seed_demo": "the demo data seeding",
    "outside-console": "someone outside the console (a shell or script)",
    "matrix": "a test",
}

# Target types whose page is not the model's get_absolute_url().
TARGET_PAGES = {"inventory.syncrun": "inventory:run"}


def actor_words(name: str) -> str:
    """'carol' stays 'carol'; system actors become words ('the console', 'the background task sync')."""
    if name in NOT_PEOPLE:
        return NOT_PEOPLE[name]
    if name.startswith("celery:"):
        return f"the background task {name.split(':', 1)[1]}"
    if name.startswith("cli:"):
        return f"{name.split(':', 1)[1]} on the command line"
    return name


def _opening(name: str) -> str:
    """The actor as a sentence's first words: system phrases get a capital, names stay as spelled."""
    words = actor_words(name)
    return capfirst(words) if words != name else name


def action_words(name: str) -> str:
    return actions.describe(name)


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def target_type_words(label: str) -> str:
    """'inventory.secret' → 'Secret'; an unknown label stays as it is."""
    model = _model(label)
    return capfirst(str(model._meta.verbose_name)) if model is not None else label


def audit_filter_url(**filters) -> str:
    return f"{reverse('audit:list')}?{urlencode(filters)}"


def target_url(entry) -> str:
    """Where the entry's target lives: its page, a person's entries, or every entry about it."""
    if not entry.target_type:
        return ""
    if entry.target_type == "auth.user":
        return audit_filter_url(person=entry.target_repr)
    page = TARGET_PAGES.get(entry.target_type)
    model = _model(entry.target_type)
    try:
        if page:
            return reverse(page, args=[entry.target_id])
        if model is not None and hasattr(model, "get_absolute_url"):
            # An unsaved stand-in: no query per row. A get_absolute_url that needs a related row
            # (a review's grant) cannot answer from it, and the entry links to its entries instead.
            return model(pk=model._meta.pk.to_python(entry.target_id)).get_absolute_url()
    except (NoReverseMatch, ValueError, TypeError, LookupError, ObjectDoesNotExist):
        pass
    return audit_filter_url(target_type=entry.target_type, target_id=entry.target_id)


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def target_link(entry):
    if not entry.target_type:
        return ""
    label = entry.target_repr or f"{target_type_words(entry.target_type)} #{entry.target_id}"
    return format_html('<a href="{}">{}</a>', target_url(entry), label)


def sentence(entry):
    """The entry as one sentence (safe HTML, the target a link), e.g. 'carol added alice to cto.'"""
    template = actions.sentence_for(entry.action)
    if callable(template):
        template = template(entry)
    data = entry.data if isinstance(entry.data, dict) else {}
    values = {
        key: _value(value) for key, value in data.items() if isinstance(key, str) and key.isidentifier()
    }
    actor = actor_words(entry.actor_name)
    values.update(actor=actor, target=target_link(entry), ip=entry.ip or "an unknown address")
    if template:
        if template.startswith("{actor}"):
            values["actor"] = _opening(entry.actor_name)
        try:
            return format_html(template.rstrip(".") + ".", **values)
        except (KeyError, IndexError, ValueError):
            pass  # an old entry without a key the wording needs: fall back to the description
    description = action_words(entry.action).rstrip(".")
    if values["target"]:
        return format_html("{}: {} — {}.", _opening(entry.actor_name), description, values["target"])
    return format_html("{}: {}.", _opening(entry.actor_name), description)
