"""Fixtures for the adapter tests: a second moto_server with IAM enforced, and a PostgreSQL
database that OpenBao's database engine manages for this session."""

import json
import os
import uuid
from dataclasses import dataclass

import boto3
import pytest

from console.stack.servers import Moto

ADMIN_SETUP_CALLS = 3  # create_user, put_user_policy, create_access_key run before auth applies


class IamMoto(Moto):
    """moto_server that evaluates IAM policies once the first few (setup) calls are spent."""

    name = "moto-iam"

    def environment(self):
        return {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(ADMIN_SETUP_CALLS)}


@dataclass
class IamHandle:
    url: str
    admin: dict  # access_key_id / secret_access_key of a user allowed everything

    def client(self, service: str, credentials: dict | None = None):
        creds = credentials or self.admin
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
        )

    def user(self, *statements) -> dict:
        """A new IAM user with these policy statements; returns its credentials."""
        iam, name = self.client("iam"), f"user-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=name)
        if statements:
            document = {"Version": "2012-10-17", "Statement": list(statements)}
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


@pytest.fixture(scope="session")
def iam_moto(tmp_path_factory):
    server = IamMoto(tmp_path_factory.mktemp("moto-iam")).start()
    try:
        server.wait_ready()
        iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1")
        iam.create_user(UserName="admin")
        everything = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(everything))
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        yield IamHandle(
            server.url, {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
        )
    finally:
        server.stop()


@dataclass
class PgDatabase:
    server: object  # the session's scram PostgreSQL (console.stack.pg_target.PostgresTarget)
    target: object  # secrets_admin.backends.postgres_target.PostgresTarget: host, port, database
    owner: str  # the login OpenBao's connection uses (it owns the database)
    owner_password: str
    static_user: str
    user_prefix: str


@pytest.fixture
def pg_database(pg_target):
    """A database of this test's own on the session's scram PostgreSQL, with the connection's
    login and a login for a static role, for OpenBao's database engine to manage."""
    from secrets_admin.backends.postgres_target import PostgresTarget, provision

    tag = uuid.uuid4().hex[:8]
    handle = PgDatabase(
        pg_target,
        PostgresTarget(f"pg-{tag}", pg_target.host, pg_target.port, f"cf_backends_{tag}"),
        f"cf_owner_{tag}",
        uuid.uuid4().hex,
        f"cf_static_{tag}",
        f"cft{tag}-",
    )
    provision(
        pg_target.dsn("postgres"),
        handle.target.database,
        owner=handle.owner,
        owner_password=handle.owner_password,
        logins=[(handle.static_user, uuid.uuid4().hex, True)],
    )
    return handle
