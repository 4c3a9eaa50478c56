"""Session fixtures: real OpenBao, Redis (REDIS_URL or an embedded Valkey) and moto_server on
free ports, each with its own temporary folder, stopped at the end of the session.

Settings are pointed at them for the whole session, so any test that talks to a backend talks
to the real thing. Per-test isolation: `kv_prefix` (a unique OpenBao KV path), `moto.reset()`.
"""

import os
import uuid
from dataclasses import dataclass

import pytest
from django.test import override_settings

from console.stack.servers import Moto, OpenBao, Valkey, redis_reachable
from tests.parallel import group_by_file, worker_redis_url

# boto3 must never find a developer's real AWS profile.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright
# Each xdist worker its own Redis database (subprocesses the tests start inherit it too).
if os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"])


def pytest_collection_modifyitems(items):
    group_by_file(items)


@dataclass
class Handles:
    openbao: OpenBao
    moto: Moto
    redis_url: str


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    started = []
    try:
        redis_url = os.environ.get("REDIS_URL")
        if not (redis_url and redis_reachable(redis_url)):
            started.append(Valkey(tmp_path_factory.mktemp("redis")).start())
            redis_url = started[-1].url
        bao = OpenBao(tmp_path_factory.mktemp("openbao"), token="test-root").start()
        moto = Moto(tmp_path_factory.mktemp("moto")).start()
        started += [bao, moto]
        for server in started:
            server.wait_ready()
        yield Handles(openbao=bao, moto=moto, redis_url=redis_url)
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="session", autouse=True)
def _settings_for_servers(servers, django_db_blocker):
    from django.conf import settings

    from console.settings import channel_layers

    bao = servers.openbao
    backends = {
        **settings.SECRET_BACKENDS,
        "vault": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token},
        "aws": {**settings.SECRET_BACKENDS["aws"], "endpoint_url": servers.moto.url, "region": "us-east-1"},
    }
    url = servers.redis_url
    override = override_settings(
        SECRET_BACKENDS=backends,
        REDIS_URL=url,
        CELERY_BROKER_URL=url,
        CELERY_RESULT_BACKEND=url,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}},
        CHANNEL_LAYERS=channel_layers(url, f"test-{uuid.uuid4().hex[:8]}"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        # Speed only; never in console/settings/.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # A loaded CI host can take over 2 s to answer a probe; tests of the limit set their own.
        READINESS_TIMEOUT=10,
    )
    override.enable()
    from console.celery import app

    app.conf.update(broker_url=url, result_backend=url)
    from secrets_admin.backends import get_backend

    get_backend("vault").bootstrap()
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _own_audit_anchor(settings, monkeypatch):
    """Each test anchors its ledger at its own OpenBao path (tests share one OpenBao, and one
    test's anchor would not match the next test's chain), with its own alert de-duplication."""
    from secrets_admin.audit import alerting

    name = uuid.uuid4().hex[:12]
    settings.AUDIT_ANCHOR = f"vault:audit-anchors/test-{name}"
    monkeypatch.setattr(alerting, "KEY_PREFIX", f"test-{name}:audit:alert:")


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_ledger_triggers():
    """Transactional tests end with Django's flush, a TRUNCATE, which the ledger's triggers refuse
    (as they refuse it to every client). Tests run as the superuser, so the flush turns ordinary
    triggers off for its own transaction, the way only a superuser can."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(scope="session")
def pg_target(tmp_path_factory):
    """A scram PostgreSQL of the session's own (the rotation target `make run` starts too),
    started the first time a test asks for it."""
    from console.stack.pg_target import PostgresTarget

    server = PostgresTarget(tmp_path_factory.mktemp("pgtarget"))
    try:
        server.start().wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def openbao(servers):
    return servers.openbao


@pytest.fixture
def moto(servers):
    return servers.moto


@pytest.fixture
def kv_prefix():
    """A KV path prefix no other test uses, so tests share one OpenBao safely."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def _data_from_migrations(request):
    """Database tests get their database first (other fixtures may use it without asking)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")


@pytest.fixture(scope="session", autouse=True)
def _data_from_migrations_after_each_flush():
    """Transactional tests end with a flush that also empties rows written by data migrations
    (the four groups, the default rotation policies, the default email channel); the flush
    then sends post_migrate, and this puts them back, committed, for the tests that follow
    (once per flush, instead of looking for them at the start of every test)."""
    from django.db.models.signals import post_migrate

    def restore(sender, **kwargs):
        if sender.label == "auth":  # post_migrate comes once per app; once is enough
            restore_data_from_migrations()

    post_migrate.connect(restore, weak=False, dispatch_uid="tests.data_from_migrations")
    yield
    post_migrate.disconnect(dispatch_uid="tests.data_from_migrations")


def restore_data_from_migrations():
    import importlib

    from django.contrib.auth.models import Group

    from secrets_admin.inventory.models import RotationPolicy
    from secrets_admin.roles import GROUPS

    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    policies = importlib.import_module("secrets_admin.inventory.migrations.0002_default_policies")
    for name, kind, interval, strategy, lead in policies.DEFAULTS:
        RotationPolicy.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "interval_days": interval,
                "strategy": strategy,
                "lead_days": lead,
                "is_default": True,
            },
        )
    from secrets_admin.alerts.models import Channel, Route

    email = importlib.import_module("secrets_admin.alerts.migrations.0002_default_email_channel")
    channel, created = Channel.objects.get_or_create(
        name=email.NAME, defaults={"kind": "email", "config": email.CONFIG}
    )
    if created:
        Route.objects.bulk_create(Route(channel=channel, severity=s) for s in email.SEVERITIES)
