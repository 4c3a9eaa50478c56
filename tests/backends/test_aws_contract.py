"""The adapter contract against moto_server, plus what only Secrets Manager has.

moto does not check IAM unless asked: permission tests use a second moto_server started with
INITIAL_NO_AUTH_ACTION_COUNT (tests/backends/conftest.py), where policies are enforced for
actions (not for resource ARNs: moto ignores a Deny on one secret's ARN).
"""

import re
import uuid

import boto3
import pytest

from console.stack.servers import free_port
from secrets_admin.backends.aws import AwsBackend
from secrets_admin.backends.base import BackendError
from tests.backends.contract import META, BackendContract, walk


def aws_config(url: str, **extra) -> dict:
    return {"kind": "aws", "region": "us-east-1", "endpoint_url": url, "timeout": 2, **extra}


def name_of(arn: str) -> str:
    return re.sub(r"-[A-Za-z0-9]{6}$", "", arn.split(":secret:", 1)[1])


@pytest.fixture
def prefix():
    return f"test-{uuid.uuid4().hex[:10]}/"


class TestAwsContract(BackendContract):
    @pytest.fixture
    def sm(self, moto):
        return boto3.client("secretsmanager", endpoint_url=moto.url, region_name="us-east-1")

    @pytest.fixture
    def backend(self, moto, prefix):
        return AwsBackend("aws-test", aws_config(moto.url, name_prefix=prefix))

    @pytest.fixture
    def make_secret(self, sm, prefix):
        def make(name, metadata=None, versions=1):
            values = [f"canary-{uuid.uuid4().hex}" for _ in range(versions)]
            tags = [{"Key": key, "Value": value} for key, value in (metadata or {}).items()]
            arn = sm.create_secret(Name=prefix + name, SecretString=values[0], Tags=tags)["ARN"]
            for value in values[1:]:
                sm.put_secret_value(SecretId=arn, SecretString=value)
            return arn, values

        return make

    @pytest.fixture
    def new_path(self, prefix):
        return lambda name: prefix + name

    @pytest.fixture
    def read_value(self, sm):
        return lambda path: sm.get_secret_value(SecretId=path, VersionStage="AWSCURRENT")["SecretString"]

    @pytest.fixture
    def raw_metadata(self, sm):
        return lambda path: {
            tag["Key"]: tag["Value"] for tag in sm.describe_secret(SecretId=path).get("Tags", [])
        }

    @pytest.fixture
    def delete_secret(self, sm):
        return lambda path: sm.delete_secret(SecretId=path, ForceDeleteWithoutRecovery=True)

    @pytest.fixture
    def down_backend(self):
        return AwsBackend("aws-down", aws_config(f"http://127.0.0.1:{free_port()}"))

    @pytest.fixture
    def denied_backend(self, iam_moto):
        nobody = iam_moto.user()
        return AwsBackend("aws-denied", aws_config(iam_moto.url, **nobody))

    @pytest.fixture
    def partly_denied(self, iam_moto, prefix):
        admin = iam_moto.client("secretsmanager")
        arns = [admin.create_secret(Name=f"{prefix}{n}", SecretString="v")["ARN"] for n in ("one", "two")]
        lister = iam_moto.user({"Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"})
        backend = AwsBackend("aws-partly", aws_config(iam_moto.url, name_prefix=prefix, **lister))
        # moto enforces actions but not resource ARNs: listing works, every version lookup is denied.
        return backend, [], arns

    # moto 5.2.5 answers ListSecretVersionIds for a force-deleted secret with HTTP 500 (AWS says
    # ResourceNotFoundException), so there the problem is a temporary error, not "not found".
    vanished_is_not_found = False

    def creatable(self, path):
        return name_of(path)

    # --- Secrets Manager only ------------------------------------------------------------
    def test_stages_and_deprecated_versions_come_from_the_version_listing(self, backend, sm, make_secret):
        arn, _ = make_secret("staged", versions=3)
        sm.put_secret_value(SecretId=arn, SecretString="pending-value", VersionStages=["AWSPENDING"])
        versions = backend.describe(arn).versions
        stages = [v.stages for v in versions]
        assert stages == [(), ("AWSPREVIOUS",), ("AWSCURRENT",), ("AWSPENDING",)]
        assert [v.deprecated for v in versions] == [True, False, False, False]
        assert [v.current for v in versions] == [False, False, True, False]

    def test_rotation_settings_and_dates_are_read(self, backend, sm, make_secret):
        arn, _ = make_secret("rotating")
        # Only to set the rotation fields: the console never lets moto rotate (it makes an empty version).
        sm.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
        secret = backend.describe(arn)
        assert secret.rotation["enabled"] is True and secret.rotation["interval_days"] == 30
        assert secret.rotation["next_rotation"] > secret.last_rotated.isoformat()
        assert secret.details["arn"] == arn

    def test_secrets_scheduled_for_deletion_are_skipped_unless_asked_for(
        self, moto, backend, make_secret, sm, prefix
    ):
        arn, _ = make_secret("leaving")
        keep, _ = make_secret("staying")
        sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
        assert set(walk(backend)[0]) == {keep}
        wider = AwsBackend("aws-all", aws_config(moto.url, name_prefix=prefix, include_planned_deletion=True))
        found, _ = walk(wider)
        assert set(found) == {arn, keep} and "deleted_date" in found[arn].details
        assert "deleted_date" in backend.describe(arn).details
        with pytest.raises(BackendError) as caught:
            backend.create_secret(prefix + "leaving", kind="api_key", metadata={})
        assert caught.value.permanent

    def test_pages_are_followed(self, moto, make_secret, prefix):
        paths = {make_secret(f"p{n}")[0] for n in range(5)}
        paged = AwsBackend("aws-paged", aws_config(moto.url, name_prefix=prefix, page_size=2))
        assert set(walk(paged)[0]) == paths

    def test_the_name_prefix_is_a_real_prefix(self, moto, sm, make_secret, prefix):
        mine, _ = make_secret("mine")
        other = sm.create_secret(Name=f"elsewhere/{prefix}x", SecretString="v")["ARN"]
        backend = AwsBackend("aws-prefix", aws_config(moto.url, name_prefix=prefix))
        assert set(walk(backend)[0]) == {mine}
        sm.delete_secret(SecretId=other, ForceDeleteWithoutRecovery=True)

    def test_tags_aws_would_refuse_are_refused_before_sending(self, backend, make_secret, raw_metadata):
        path, _ = make_secret("tags", metadata=META)
        for bad in ({"owner": "a" * 257}, {"aws:owner": "x"}, {"owner": "semi;colon"}):
            with pytest.raises(BackendError) as caught:
                backend.write_metadata(path, bad)
            assert caught.value.permanent
        assert raw_metadata(path) == META  # moto itself would have stored a 300-character tag

    def test_invalid_names_are_refused(self, backend):
        for name in ("", "has space", "arn:aws:secretsmanager:x"):
            with pytest.raises(BackendError) as caught:
                backend.create_secret(name, kind="api_key", metadata={})
            assert caught.value.permanent

    def test_rejected_credentials_say_so(self, iam_moto):
        unknown = {"access_key_id": "AKIAUNKNOWN", "secret_access_key": "nope"}
        stranger = AwsBackend("aws-stranger", aws_config(iam_moto.url, **unknown))
        with pytest.raises(BackendError, match="credentials rejected") as caught:
            stranger.ping()
        assert caught.value.permanent

    def test_an_allowed_user_walks_the_iam_enforcing_server(self, iam_moto, prefix):
        admin = iam_moto.client("secretsmanager")
        arn = admin.create_secret(
            Name=f"{prefix}ok", SecretString="v", Tags=[{"Key": "owner", "Value": "data"}]
        )["ARN"]
        reader = iam_moto.user(
            {"Effect": "Allow", "Resource": "*",
             "Action": ["secretsmanager:ListSecrets", "secretsmanager:ListSecretVersionIds"]}
        )  # fmt: skip
        backend = AwsBackend("aws-reader", aws_config(iam_moto.url, name_prefix=prefix, **reader))
        found, problems = walk(backend)
        assert problems == [] and found[arn].metadata == {"owner": "data"}
        with pytest.raises(BackendError, match="permission denied") as caught:
            backend.write_metadata(arn, {"owner": "payments"})
        assert caught.value.permanent
        assert admin.describe_secret(SecretId=arn)["Tags"] == [{"Key": "owner", "Value": "data"}]
