"""The demo estate `seed_demo` writes into the running servers: KV secrets, PKI certificates, a
database connection with roles against a real PostgreSQL, and AWS Secrets Manager secrets in moto.

Idempotent: what exists is left alone. Values are random, go straight to the backend, and are
never printed or kept. The SDK clients are the adapters' own (`backend.client`), so hvac stays
inside vault.py and boto3 inside aws.py.
"""

import uuid

from secrets_admin.backends import BackendError, backends_of_kind, get_backend
from secrets_admin.backends.base import RemoteSecret
from secrets_admin.backends.passwords import generate

# (team, environment, name, kind, purpose, versions)
KV_SECRETS = [
    ("payments", "production", "stripe-api-key", "api_key", "Card payments via Stripe", 3),
    ("payments", "production", "stripe-webhook-secret", "api_key", "Verifies Stripe webhook signatures", 2),
    ("payments", "staging", "stripe-api-key", "api_key", "Stripe test mode", 1),
    ("payments", "production", "adyen-api-key", "api_key", "Card payments in the EU via Adyen", 2),
    ("payments", "production", "ledger-db-password", "password", "Ledger service database login", 4),
    ("payments", "development", "fraud-model-api-key", "api_key", "Fraud scoring sandbox", 1),
    ("payments", "staging", "ledger-db-password", "password", "Ledger database in staging", 1),
    ("identity", "production", "okta-api-token", "api_key", "User provisioning from Okta", 2),
    ("identity", "production", "jwt-signing-secret", "generic", "Signs session JWTs", 3),
    ("identity", "production", "ldap-bind-password", "password", "Directory bind for legacy apps", 5),
    ("identity", "staging", "scim-token", "api_key", "SCIM sync from the HR system", 1),
    ("identity", "development", "session-secret", "generic", "Local session cookie key", 1),
    ("identity", "production", "twilio-api-key", "api_key", "SMS one-time codes", 2),
    ("platform", "production", "github-deploy-token", "api_key", "CI deploys from GitHub Actions", 2),
    ("platform", "production", "pagerduty-api-key", "api_key", "Incident routing", 1),
    ("platform", "production", "datadog-api-key", "api_key", "Metrics and logs shipping", 3),
    ("platform", "staging", "grafana-admin-password", "password", "Grafana admin in staging", 1),
    ("platform", "production", "terraform-cloud-token", "api_key", "Infrastructure pipelines", 2),
    ("platform", "production", "smtp-relay-password", "password", "Outbound email relay", 2),
    ("platform", "development", "registry-pull-token", "api_key", "Container registry pulls", 1),
    ("data", "production", "snowflake-password", "password", "Warehouse loader", 3),
    ("data", "production", "bigquery-export-key", "api_key", "Exports to BigQuery", 1),
    ("data", "production", "airflow-fernet-key", "generic", "Encrypts Airflow connections", 2),
    ("data", "staging", "kafka-sasl-password", "password", "Kafka consumers in staging", 1),
    ("data", "production", "kafka-sasl-password", "password", "Kafka consumers", 2),
    ("data", "development", "s3-export-key", "api_key", "Local export tests", 1),
]
# Shapes the console must flag rather than hide.
KV_ODD = [
    ("legacy/billing-ftp-password", {"owner": "payments", "environment": "prod", "kind": "password"}),
    ("legacy/unowned-api-key", {"kind": "api_key"}),
]
# (common name, ttl) — some expire within 7 and within 30 days.
CERTIFICATES = [
    ("login.identity.internal", "96h"),
    ("api.payments.internal", "144h"),
    ("checkout.payments.internal", "480h"),
    ("sso.identity.internal", "600h"),
    ("grafana.platform.internal", "2160h"),
    ("airflow.data.internal", "1440h"),
    ("kafka.data.internal", "4320h"),
    ("vpn.platform.internal", "8760h"),
]
# (name, team, environment, kind, purpose, versions, pending)
AWS_SECRETS = [
    (
        "prod/payments/stripe-live-key",
        "payments",
        "production",
        "api_key",
        "Stripe live key for checkout",
        3,
        False,
    ),
    (
        "prod/payments/bank-sftp-password",
        "payments",
        "production",
        "password",
        "Bank settlement SFTP",
        2,
        True,
    ),
    ("staging/payments/stripe-test-key", "payments", "staging", "api_key", "Stripe test key", 1, False),
    ("prod/identity/auth0-client-secret", "identity", "production", "api_key", "Auth0 M2M client", 2, False),
    ("prod/identity/saml-signing-password", "identity", "production", "password", "SAML key store", 1, False),
    ("prod/platform/cloudflare-api-token", "platform", "production", "api_key", "DNS automation", 4, False),
    ("prod/platform/rds-master-password", "platform", "production", "password", "RDS master login", 2, False),
    ("staging/platform/sentry-dsn-token", "platform", "staging", "api_key", "Error reporting", 1, False),
    ("dev/platform/slack-bot-token", "platform", "development", "api_key", "ChatOps bot", 1, False),
    ("prod/data/redshift-loader-password", "data", "production", "password", "Redshift loads", 3, True),
    ("prod/data/segment-write-key", "data", "production", "api_key", "Event collection", 1, False),
    ("staging/data/looker-api-secret", "data", "staging", "api_key", "Dashboards API", 1, False),
]


def seed_estate(stdout) -> None:
    """Write the demo estate into the configured "vault" and "aws" backends; print what was done."""
    steps = []
    if backends_of_kind("vault"):
        vault = get_backend("vault")
        steps += [(_seed_kv, vault), (_seed_pki, vault), (_seed_database, vault)]
    if backends_of_kind("aws"):
        steps.append((_seed_aws, get_backend("aws")))
    for step, backend in steps:
        try:
            step(backend, stdout)
        except (BackendError, ValueError) as exc:  # the console still starts; the demo is smaller
            stdout.write(f"demo estate: {step.__name__.removeprefix('_seed_')} skipped: {exc}")


def _seed_kv(vault, stdout) -> None:
    kv, made = vault.mounts["kv"], 0
    kv_api = vault.client.secrets.kv.v2
    wanted = [
        (
            f"{team}/{env}/{name}",
            kind,
            {"owner": team, "purpose": purpose, "environment": env, "kind": kind},
            count,
        )
        for team, env, name, kind, purpose, count in KV_SECRETS
    ]
    wanted += [(path, meta.get("kind", "generic"), meta, 1) for path, meta in KV_ODD]
    with vault.errors("seed KV"):
        for key, kind, meta, versions in wanted:
            if vault.kv_exists(key):
                continue
            for number in range(versions):
                kv_api.create_or_update_secret(
                    key, secret={"value": generate(kind)}, cas=number, mount_point=kv
                )
            kv_api.update_metadata(key, custom_metadata=meta, mount_point=kv)
            made += 1
    stdout.write(f"demo estate: {made} new KV secrets in {vault.name} ({len(wanted) - made} already there)")


def _seed_pki(vault, stdout) -> None:
    pki, made = vault.mounts["pki"], 0
    present = {item.name for item in vault.walk_pki() if isinstance(item, RemoteSecret)}
    with vault.errors("seed PKI"):
        for common_name, ttl in CERTIFICATES:
            if common_name in present:
                continue
            # The response carries a private key: it is dropped here, never printed or kept.
            vault.client.secrets.pki.generate_certificate(
                "candlefish", common_name, extra_params={"ttl": ttl}, mount_point=pki
            )
            made += 1
    left = len(CERTIFICATES) - made
    stdout.write(f"demo estate: {made} new certificates in {vault.name}/{pki} ({left} already there)")
    from secrets_admin.demo_targets import seed_renewable_certificates

    seed_renewable_certificates(vault, stdout)


def _seed_database(vault, stdout) -> None:
    from secrets_admin.demo_targets import seed_targets

    seed_targets(vault, get_backend("aws") if backends_of_kind("aws") else None, stdout)


def _seed_aws(aws, stdout) -> None:
    made = 0
    client = aws.client
    with aws.errors("seed AWS Secrets Manager"):
        pages = client.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True)
        existing = {entry["Name"] for page in pages for entry in page["SecretList"]}
        for name, team, env, kind, purpose, versions, pending in AWS_SECRETS:
            if name in existing:
                continue
            meta = {"owner": team, "purpose": purpose, "environment": env, "kind": kind}
            tags = [{"Key": key, "Value": value} for key, value in meta.items()]
            client.create_secret(
                Name=name, SecretString=generate(kind), ClientRequestToken=str(uuid.uuid4()), Tags=tags
            )
            for _ in range(versions - 1):
                client.put_secret_value(
                    SecretId=name, SecretString=generate(kind), ClientRequestToken=str(uuid.uuid4())
                )
            if pending:  # a rotation caught between "create" and "finish"
                client.put_secret_value(
                    SecretId=name,
                    SecretString=generate(kind),
                    ClientRequestToken=str(uuid.uuid4()),
                    VersionStages=["AWSPENDING"],
                )
            made += 1
    stdout.write(
        f"demo estate: {made} new AWS secrets in {aws.name} ({len(AWS_SECRETS) - made} already there)"
    )
