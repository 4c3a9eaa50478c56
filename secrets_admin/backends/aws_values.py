"""AWS Secrets Manager values for rotation, through aws.py's client (this module does not import
boto3). The run token is the ClientRequestToken, so the new version's id *is* the token:

- write_pending: PutSecretValue(ClientRequestToken=token, VersionStages=[AWSPENDING]) unless a
  version with that id exists (a re-run writes nothing).
- promote: AWSCURRENT moves to the token's version (AWS puts AWSPREVIOUS on the old one), then
  AWSPENDING is removed explicitly. Never RotateSecret: the engine runs the four steps itself.
- retire: AWSPREVIOUS is taken off the old version after the overlap (it then has no stage).

Values go from memory to the request and back; they are never logged or put in messages.
"""

from secrets_admin.backends.base import BackendError

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"


def _stages(backend, arn: str) -> dict[str, list[str]]:
    with backend.errors(f"describe {arn}"):
        return backend.client.describe_secret(SecretId=arn).get("VersionIdsToStages") or {}


def _holder(stages: dict, stage: str) -> str | None:
    return next((version for version, names in stages.items() if stage in names), None)


def pending_location(backend, arn: str) -> str:
    return f"{arn} (stage {PENDING})"


def current_version(backend, arn: str) -> str:
    holder = _holder(_stages(backend, arn), CURRENT)
    if holder is None:
        raise BackendError(
            f"{arn} has no current version", permanent=True, backend=backend.name, reason="not found"
        )
    return holder


def write_pending(backend, arn: str, value: str, *, token: str, cas=None) -> str:
    if token in _stages(backend, arn):
        return token
    try:
        with backend.errors(f"stage the new value of {arn}"):
            backend.client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString=value, VersionStages=[PENDING]
            )
    except BackendError as exc:
        message = str(exc).replace(value, "[value]").removeprefix(f"{backend.name}: ")
        raise BackendError(
            message, permanent=exc.permanent, backend=backend.name, reason=exc.reason
        ) from None
    return token


def _get(backend, arn: str, doing: str, **selector) -> str:
    with backend.errors(doing):
        answer = backend.client.get_secret_value(SecretId=arn, **selector)
    if "SecretString" not in answer:
        raise BackendError(
            f"{arn} holds binary data; only strings rotate here", permanent=True, backend=backend.name
        )
    return answer["SecretString"]


def read_pending(backend, arn: str, *, token: str) -> str:
    if PENDING not in _stages(backend, arn).get(token, []):
        raise BackendError(
            f"{arn} has no pending value of this run",
            permanent=True,
            backend=backend.name,
            reason="not found",
        )
    return _get(backend, arn, f"read the pending value of {arn}", VersionId=token, VersionStage=PENDING)


def read_current(backend, arn: str) -> str:
    return _get(backend, arn, f"read the current value of {arn}", VersionStage=CURRENT)


def promote(backend, arn: str, *, token: str) -> str:
    stages = _stages(backend, arn)
    if token not in stages:
        raise BackendError(
            f"{arn} has no version of this run", permanent=True, backend=backend.name, reason="not found"
        )
    current = _holder(stages, CURRENT)
    with backend.errors(f"promote the new value of {arn}"):
        if current != token:
            backend.client.update_secret_version_stage(
                SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
            )
        if PENDING in _stages(backend, arn).get(token, []):
            backend.client.update_secret_version_stage(
                SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=token
            )
    return token


def retire(backend, arn: str, version_id: str) -> None:
    if PREVIOUS in _stages(backend, arn).get(version_id, []):
        with backend.errors(f"retire version {version_id} of {arn}"):
            backend.client.update_secret_version_stage(
                SecretId=arn, VersionStage=PREVIOUS, RemoveFromVersionId=version_id
            )
