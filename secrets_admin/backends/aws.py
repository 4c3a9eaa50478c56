"""AWS Secrets Manager adapter (boto3). The only module that imports boto3."""

import threading

import boto3
import botocore.config
import botocore.exceptions

from secrets_admin.backends.base import SecretBackend, translated

_PERMANENT_CODES = {
    "AccessDeniedException",
    "ResourceNotFoundException",
    "InvalidParameterException",
    "InvalidRequestException",
    "ValidationException",
    "UnrecognizedClientException",
}


class AwsBackend(SecretBackend):
    kind = "aws"

    def __init__(self, name, config):
        super().__init__(name, config)
        self._local = threading.local()  # boto3 clients are thread-safe, sessions are not

    @property
    def client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            timeout = self.config.get("timeout", 5)
            client = boto3.session.Session().client(
                "secretsmanager",
                region_name=self.config.get("region"),
                endpoint_url=self.config.get("endpoint_url"),
                config=botocore.config.Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                ),
            )
            self._local.client = client
        return client

    def errors(self, doing: str):
        return translated(self.name, doing, _classify)

    def ping(self) -> None:
        with self.errors("health check"):
            self.client.list_secrets(MaxResults=1)


def _classify(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code", "") in _PERMANENT_CODES
    if isinstance(exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.ParamValidationError):
        return True
    if isinstance(exc, botocore.exceptions.BotoCoreError | OSError):
        return False
    return None
