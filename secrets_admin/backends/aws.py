"""AWS Secrets Manager adapter (boto3). The only module that imports boto3.

Inventory uses ListSecrets (paged), DescribeSecret and ListSecretVersionIds: never
GetSecretValue. Paths are ARNs; `describe` also accepts a name. `create_secret` takes a name.

Config keys beyond region/endpoint_url/timeout: `name_prefix` (walk only secrets whose name
starts with it), `include_planned_deletion` (default false: a secret scheduled for deletion is
gone for the inventory), `page_size` (ListSecrets MaxResults, default 100), and optional
`access_key_id`/`secret_access_key` (otherwise boto3's usual credential chain).
"""

import logging
import re
import threading
import uuid

import boto3
import botocore.config
import botocore.exceptions

from secrets_admin.backends import aws_records as records
from secrets_admin.backends import aws_values, passwords
from secrets_admin.backends import metadata as md
from secrets_admin.backends.base import (
    BackendError,
    ListingProblem,
    RemoteSecret,
    SecretBackend,
    translated,
)

log = logging.getLogger(__name__)
# botocore's DEBUG output includes request and response bodies, i.e. secret values (SecretString).
# Whatever LOG_LEVEL says, those loggers stop at INFO.
for _name in ("botocore", "boto3", "s3transfer"):
    if logging.getLogger(_name).level < logging.INFO:  # NOTSET (0) would inherit a DEBUG root
        logging.getLogger(_name).setLevel(logging.INFO)
NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$")

_PERMANENT_CODES = {
    "AccessDeniedException",
    "AccessDenied",
    "ResourceNotFoundException",
    "ResourceExistsException",
    "InvalidParameterException",
    "InvalidRequestException",
    "ValidationException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
}
_TRANSIENT_CODES = {
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestTimeout",
    "InternalServiceError",
}


class AwsBackend(SecretBackend):
    kind = "aws"
    values = aws_values  # rotation values: ClientRequestToken, AWSPENDING, stage moves

    def __init__(self, name, config):
        super().__init__(name, config)
        self._local = threading.local()  # boto3 clients are thread-safe, sessions are not

    @property
    def client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            timeout = self.config.get("timeout", 5)
            session = boto3.session.Session(
                aws_access_key_id=self.config.get("access_key_id") or None,
                aws_secret_access_key=self.config.get("secret_access_key") or None,
            )
            client = session.client(
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
        return translated(self.name, doing, _classify, _explain)

    def ping(self) -> None:
        with self.errors("health check"):
            self.client.list_secrets(MaxResults=1)

    # --- the adapter contract --------------------------------------------------------------
    def iter_secrets(self):
        """Every secret (ListSecrets, paged) with its versions. A failing page raises
        BackendError (the walk cannot go on without its token); a failing secret yields a
        ListingProblem with its ARN."""
        prefix = self.config.get("name_prefix") or ""
        kwargs = {
            "MaxResults": int(self.config.get("page_size") or 100),
            "IncludePlannedDeletion": bool(self.config.get("include_planned_deletion", False)),
        }
        if prefix:
            kwargs["Filters"] = [{"Key": "name", "Values": [prefix]}]
        token = None
        while True:
            with self.errors("list secrets"):
                page = self.client.list_secrets(**kwargs, **({"NextToken": token} if token else {}))
            for entry in page.get("SecretList", []):
                if prefix and not entry.get("Name", "").startswith(prefix):
                    continue  # AWS's name filter ignores case; ours does not
                yield self._item(entry)
            token = page.get("NextToken")
            if not token:
                return

    def check_path(self, path: str, *, creating: bool = False) -> None:
        """A secret's name or ARN; the SDK sends it in a JSON body, never in a URL, but nothing
        else is a secret of this backend. Creating takes a name."""
        if creating and not NAME.match(path or ""):
            raise BackendError(
                "a new secret's name uses letters, digits and /_+=.@- only (at most 512)",
                permanent=True,
                backend=self.name,
                reason="refused input",
            )
        if not (NAME.match(path or "") or ARN.match(path or "")):
            raise BackendError(
                "name the secret by its name (letters, digits and /_+=.@-) or its full ARN",
                permanent=True,
                backend=self.name,
                reason="refused input",
            )

    def describe(self, path: str) -> RemoteSecret:
        with self.errors(f"describe {path}"):
            entry = self.client.describe_secret(SecretId=path)
        return records.secret(self.name, entry, self._versions(entry["ARN"]))

    def writable_metadata(self, path: str) -> bool:
        return True

    def write_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Tag the secret (other tags stay); an empty value removes that tag."""
        md.check_update(self.name, metadata, max_key=128, max_value=256, aws=True)
        keep = [{"Key": key, "Value": value} for key, value in metadata.items() if value]
        drop = [key for key, value in metadata.items() if not value]
        with self.errors(f"write metadata of {path}"):
            self.client.describe_secret(SecretId=path)  # a clear "not found" before any change
            if keep:
                self.client.tag_resource(SecretId=path, Tags=keep)
            if drop:
                self.client.untag_resource(SecretId=path, TagKeys=drop)

    def create_secret(self, path: str, *, kind: str, metadata: dict[str, str]) -> RemoteSecret:
        """Create secret `path` (a name) with a generated value and the metadata as tags.
        Refused (permanent) if the name exists, also when it is scheduled for deletion."""
        if not NAME.match(path or "") or path.startswith("arn:"):
            raise BackendError(
                f"{path!r} is not a valid secret name", permanent=True, backend=self.name, reason="not a path"
            )
        wanted = {**metadata, "kind": kind}
        md.check_update(self.name, wanted, max_key=128, max_value=256, aws=True)
        tags = [{"Key": key, "Value": value} for key, value in wanted.items() if value]
        value = passwords.generate(kind, backend=self.name)
        try:
            with self.errors(f"create {path}"):
                created = self.client.create_secret(
                    Name=path, SecretString=value, ClientRequestToken=str(uuid.uuid4()), Tags=tags
                )
        except BackendError as exc:
            message = str(exc).replace(value, "[value]").removeprefix(f"{self.name}: ")
            reason = exc.reason
            if "ResourceExists" in message or "already exists" in message:
                message, reason = f"{path} already exists; refusing to overwrite it", "already exists"
            raise BackendError(message, permanent=exc.permanent, backend=self.name, reason=reason) from None
        finally:
            del value
        log.info("created %s in %s (kind %s)", path, self.name, kind)
        return self.describe(created["ARN"])

    # --- records ---------------------------------------------------------------------------
    def _item(self, entry: dict):
        arn = entry.get("ARN", entry.get("Name", "?"))
        try:
            return records.secret(self.name, entry, self._versions(arn))
        except BackendError as exc:
            return ListingProblem(self.name, arn, exc)

    def _versions(self, arn: str) -> list[dict]:
        versions, token = [], None
        while True:
            with self.errors(f"list versions of {arn}"):
                page = self.client.list_secret_version_ids(
                    SecretId=arn,
                    IncludeDeprecated=True,
                    MaxResults=100,
                    **({"NextToken": token} if token else {}),
                )
            versions += page.get("Versions", [])
            token = page.get("NextToken")
            if not token:
                return versions


def _error_code(exc) -> str:
    """The AWS error code; moto with IAM enabled answers JSON APIs with an XML body and code "403"."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    inner = re.search(r"<Code>([^<]+)</Code>", str(error.get("Message", "")))
    return inner.group(1) if inner else code


def _status(exc) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _classify(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        code = _error_code(exc)
        if code in _TRANSIENT_CODES:
            return False
        return code in _PERMANENT_CODES or 400 <= _status(exc) < 500 and _status(exc) not in (408, 429)
    if isinstance(exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.ParamValidationError):
        return True
    if isinstance(exc, botocore.exceptions.BotoCoreError | OSError):
        return False
    return None


def _explain(exc) -> str:
    """The cause in words: unreachable, credentials rejected and permission denied differ."""
    if isinstance(exc, botocore.exceptions.ClientError):
        code = _error_code(exc)
        if code.startswith("AccessDenied") or "not authorized" in str(exc):
            return "permission denied (IAM policy)"
        if code in (
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredTokenException",
        ):
            return "credentials rejected"
        words = {"ResourceNotFoundException": "not found", "ResourceExistsException": "already exists"}
        if code in words:
            return words[code]
        if code in _TRANSIENT_CODES:
            return "rate limited or temporarily failing"
        return ""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials configured"
    if isinstance(exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError):
        return "timed out"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectionError):
        return "unreachable"
    return ""
