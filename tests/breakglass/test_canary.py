"""Never a value, and the token only on its one reveal: a known value read through a break-glass
grant, and the grant's token itself, must not appear in the database, the logs, any break-glass
page or export (but the reveal's), the live fragments, the alert facts or the queued mail task."""

import json
import logging
import uuid

import hvac
import pytest
import redis

from breakglass import live as bg_live
from breakglass.models import Grant
from breakglass.services import approve, grants, recording
from console import live
from secrets_admin.alerts.models import Alert
from tests.inventory.test_canary import broker_messages, db_dump

pytestmark = pytest.mark.django_db


def test_no_value_or_token_leaks_anywhere(
    ask, secret_at, alice, carol, erin, openbao, kv_prefix, servers, caplog
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    value = f"CANARY{uuid.uuid4().hex}"
    secret = secret_at("canary/db", value)
    access = ask(secret)
    approve.do_approve(access.pk, actor=carol.user, code=carol.code())
    approve.do_approve(access.pk, actor=erin.user, code=erin.code())
    grant = Grant.objects.get(request=access)
    token = grants.do_reveal(grant.pk, actor=alice.user, code=alice.code())
    read = hvac.Client(url=openbao.url, token=token).secrets.kv.v2.read_secret_version(
        path=f"{kv_prefix}/canary/db", mount_point="secret", raise_on_deleted_version=True
    )
    assert read["data"]["data"]["value"] == value
    recording.read_audit_log(str(openbao.audit_log))
    grants.do_end(grant.pk, actor=carol.user, code=carol.code())
    assert grant.events.exists()

    from breakglass import notify

    notify.requested(access.pk)  # what the notify task does in a worker: alerts with facts
    notify.activated(grant.pk)
    pages = []
    for person in (alice, carol):
        client = person.client()
        for url in (
            "/access/",
            "/access/approvals/",
            "/access/all/",
            f"/access/{access.pk}/",
            f"/access/grants/{grant.pk}/",
            f"/access/{access.pk}/evidence/",
            f"/access/{access.pk}/evidence.json",
        ):
            pages.append(client.get(url).content.decode())
    fragments = [bg_live.queue({}), bg_live.timeline({"grant": str(grant.pk)})]
    facts = json.dumps(list(Alert.objects.values("subject", "facts")))
    queue = f"canary-{uuid.uuid4().hex[:8]}"
    from breakglass import tasks

    tasks.send_mail.apply_async(args=["requested", access.pk], queue=queue)
    messages = broker_messages(servers.redis_url, queue)
    redis.Redis.from_url(servers.redis_url).delete(queue)
    assert messages

    everything = {
        "db": db_dump(),
        "logs": caplog.text,
        "pages": "\n".join(pages),
        "live": "\n".join(fragments),
        "alerts": facts,
        "broker": "\n".join(messages),
    }
    for where, text in everything.items():
        assert value not in text, f"the value leaked into {where}"
        assert token not in text, f"the token leaked into {where}"
    assert live.TOPICS[bg_live.SESSIONS]
