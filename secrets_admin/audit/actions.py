"""Registry of audit action names.

Every app registers the names it writes in its own `actions.py`, called from its
`AppConfig.ready()`. `services.record()` refuses names that are not registered, so a typo fails
the first test that exercises it instead of silently creating a new kind of entry.
"""

import re

# Namespaced, lower case, dot separated, at least two parts: `auth.login.failed`.
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_LENGTH = 100

_registry: dict[str, str] = {}
_sentences: dict[str, object] = {}


def register(name: str, description: str, *, sentence=None) -> str:
    """Register `name` with a one-line human description; returns the name. `sentence`, if
    given, is how the audit page words one entry (see `set_sentence`).

    Registering the same name again with the same description is a no-op (imports may repeat);
    a different description raises ValueError, since two apps would then disagree on its meaning.
    """
    if not isinstance(name, str) or not NAME.match(name) or len(name) > MAX_LENGTH:
        raise ValueError(f"audit action {name!r} must look like 'area.object.verb' (lower case, dots)")
    if not description or not isinstance(description, str):
        raise ValueError(f"audit action {name!r} needs a description")
    known = _registry.get(name)
    if known is not None and known != description:
        raise ValueError(f"audit action {name!r} is already registered as {known!r}")
    _registry[name] = description
    if sentence is not None:
        set_sentence(name, sentence)
    return name


def set_sentence(name: str, sentence) -> None:
    """How the audit page words an entry of `name`: a template such as
    "{actor} added {target} to {group}" (`{actor}`, `{target}`, `{ip}` and the entry's data keys),
    or a callable(entry) returning one. Without it the page words the entry from its description."""
    if not (isinstance(sentence, str) or callable(sentence)):
        raise ValueError(f"the sentence of {name!r} must be a template string or a callable")
    _sentences[name] = sentence


def sentence_for(name: str):
    """The sentence template (or callable) registered for `name`, or None."""
    return _sentences.get(name)


def is_registered(name: str) -> bool:
    return name in _registry


def describe(name: str) -> str:
    """The description of a registered action; the name itself when it is unknown (old entries)."""
    return _registry.get(name, name)


def registered() -> dict[str, str]:
    """A copy of every registered name and its description, sorted by name."""
    return dict(sorted(_registry.items()))


EXPORTED = "audit.exported"
BREAK_ACKNOWLEDGED = "audit.break.acknowledged"
LEDGER_UPGRADED = "audit.ledger.upgraded"
INTENT_STARTED = "intent.started"
INTENT_FAILED = "intent.failed"
INTENT_SETTLED = "intent.settled"


def register_own():
    register(
        EXPORTED,
        "Someone exported audit entries (the filter used is in the data)",
        sentence="{actor} exported the audit entries matching a filter as {format}",
    )
    register(
        BREAK_ACKNOWLEDGED,
        "A security-team member acknowledged a break of the audit chain with a one-time code (note in data)",
        sentence="{actor} acknowledged the break of the audit chain at entry #{broken_at}: {note}",
    )
    register(
        LEDGER_UPGRADED,
        "The ledger was re-sealed as v2 (the v1 head sequence and hash are in the data)",
        sentence="The ledger was re-sealed as v2 after entry #{v1_head} of v1",
    )
    register(
        INTENT_STARTED,
        "A change that touches a backend was started (the backend call follows)",
        sentence="{actor} started a backend change ({kind}) of {key}",
    )
    register(
        INTENT_FAILED,
        "A started backend change failed or was refused; the database was not changed",
        sentence="{actor} saw a backend change ({kind}) of {key} refused or failed; nothing was changed",
    )
    register(
        INTENT_SETTLED,
        "The reconciler settled a backend change left unfinished by a crash",
        sentence="The reconciler settled the unfinished backend change ({kind}) of {key}: {outcome}",
    )
