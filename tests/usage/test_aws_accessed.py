"""AWS `LastAccessedDate`: stored by the inventory sync as metadata, shown on /usage/, and used by
the stale rule. moto (5.x) answers DescribeSecret with no LastAccessedDate even after a read, so
the sync test checks the stored value equals what DescribeSecret says, and the parser test feeds
the shape real AWS returns (a date at midnight UTC)."""

import uuid
from datetime import UTC, datetime

import boto3
import pytest

from secrets_admin.backends import aws_records
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.services.sync import sync_backend
from secrets_admin.usage.services import patterns

pytestmark = pytest.mark.django_db


@pytest.fixture
def aws_backend(settings, moto):
    prefix = f"usage-{uuid.uuid4().hex[:8]}"
    base = settings.SECRET_BACKENDS["aws"]
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "awstest": {**base, "endpoint_url": moto.url, "region": "us-east-1", "name_prefix": prefix + "/"},
    }
    return prefix


def test_the_sync_stores_what_describe_secret_says_after_a_read(aws_backend, moto):
    sm = boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")
    arn = sm.create_secret(Name=f"{aws_backend}/api-key", SecretString="never-stored")["ARN"]
    sm.get_secret_value(SecretId=arn)
    said = sm.describe_secret(SecretId=arn).get("LastAccessedDate")
    assert sync_backend("awstest", actor="test").state == "succeeded"
    stored = Secret.objects.get(backend="awstest", path=arn).last_accessed
    assert stored == (said.astimezone(UTC) if said else None)


def test_a_real_aws_last_accessed_date_becomes_the_secrets_last_access():
    answer = {
        "ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:app-AbCdEf",
        "Name": "app",
        "LastAccessedDate": datetime(2026, 11, 19, tzinfo=UTC),  # AWS keeps the day only
        "VersionIdsToStages": {},
    }
    assert aws_records.secret("aws", answer, []).last_accessed == datetime(2026, 11, 19, tzinfo=UTC)


def test_the_usage_page_lists_aws_secrets_by_last_access(settings, member):
    settings.USAGE_STALE_DAYS = 90
    recent = Secret.objects.create(
        backend="aws", path="arn:recent", name="recent", last_accessed=datetime(2026, 11, 19, tzinfo=UTC)
    )
    never = Secret.objects.create(backend="aws", path="arn:never", name="never")
    assert patterns.aws_last_accessed() == [recent, never]
    page = member("erin", "cto").get("/usage/").content.decode()
    assert "2026-11-19" in page and "never" in page
