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
    target: object  # secrets_admin.demo_estate.PgTarget
    database: str
    static_user: str
    user_prefix: str


@pytest.fixture(scope="session")
def pg_database():
    """A throwaway database (and login role) on the machine's PostgreSQL for OpenBao to manage."""
    from psycopg import connect, sql

    from secrets_admin.demo_estate import postgres_target, prepare_database

    target, why = postgres_target()
    if target is None:
        pytest.skip(f"MISSING: PostgreSQL for OpenBao's database engine: {why}")
    tag = uuid.uuid4().hex[:8]
    handle = PgDatabase(target, f"cf_backends_{tag}", f"cf_static_{tag}", f"cft{tag}-")
    prepare_database(target, handle.database, handle.static_user)
    yield handle
    with connect(target.dsn("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(handle.database))
        )
        leftovers = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [handle.user_prefix + "%"]
        )
        for (name,) in leftovers.fetchall() + [(handle.static_user,)]:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
