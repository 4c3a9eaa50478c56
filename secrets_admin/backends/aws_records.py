"""AWS Secrets Manager API answers -> RemoteSecret. Pure functions, no network, no boto3."""

from secrets_admin.backends import metadata as md
from secrets_admin.backends.base import RemoteSecret, RemoteVersion


def secret(backend: str, entry: dict, versions: list[dict]) -> RemoteSecret:
    """`entry` is a ListSecrets item or a DescribeSecret answer; `versions` ListSecretVersionIds'
    Versions (IncludeDeprecated). Neither ever holds a value."""
    raw_tags = {tag["Key"]: tag.get("Value", "") for tag in entry.get("Tags") or []}
    metadata, tags, problems = md.split(raw_tags)
    run = tags.get(md.RUN_KEY, "")
    staged = entry.get("VersionIdsToStages") or entry.get("SecretVersionsToStages") or {}
    seen = {v["VersionId"]: v for v in versions}
    for version_id, stages in staged.items():  # a version the listing missed still counts
        seen.setdefault(version_id, {"VersionId": version_id, "VersionStages": stages})
    # A version cannot be younger than the secret's last change. moto 5.2.5 reports the time of
    # the ListSecretVersionIds call as CreatedDate; capping keeps its dates stable (no-op on AWS).
    changed = md.parse_time(entry.get("LastChangedDate"))
    remote = []
    for info in sorted(
        seen.values(),
        key=lambda v: (md.parse_time(v.get("CreatedDate")) is None, v.get("CreatedDate") or 0),
    ):
        stages = tuple(sorted(info.get("VersionStages") or staged.get(info["VersionId"], ())))
        current = "AWSCURRENT" in stages
        remote.append(
            RemoteVersion(
                version_id=info["VersionId"],
                created_at=_not_after(md.parse_time(info.get("CreatedDate")), changed),
                stages=stages,
                current=current,
                deprecated=not stages,
                created_by=run if current else "",
            )
        )
    current_version = next((v for v in remote if v.current), None)
    rules = entry.get("RotationRules") or {}
    rotation = {"enabled": bool(entry.get("RotationEnabled"))}
    if rules.get("AutomaticallyAfterDays"):
        rotation["interval_days"] = int(rules["AutomaticallyAfterDays"])
    for key, field in (
        ("ScheduleExpression", "schedule"),
        ("Duration", "window"),
        ("RotationLambdaARN", "lambda"),
    ):
        if rules.get(key) or entry.get(key):
            rotation[field] = rules.get(key) or entry.get(key)
    if entry.get("NextRotationDate"):
        rotation["next_rotation"] = md.parse_time(entry["NextRotationDate"]).isoformat()
    details = {"arn": entry["ARN"], "name": entry.get("Name", "")}
    for key, field in (
        ("Description", "description"),
        ("KmsKeyId", "kms_key_id"),
        ("OwningService", "owning_service"),
        ("PrimaryRegion", "primary_region"),
    ):
        if entry.get(key):
            details[field] = entry[key]
    if entry.get("DeletedDate"):
        details["deleted_date"] = md.parse_time(entry["DeletedDate"]).isoformat()
    if problems:
        details["problems"] = problems
    return RemoteSecret(
        backend=backend,
        path=entry["ARN"],
        name=entry.get("Name", ""),
        kind=md.kind_of(metadata),
        created_at=md.parse_time(entry.get("CreatedDate")),
        updated_at=md.parse_time(entry.get("LastChangedDate")),
        last_rotated=md.parse_time(entry.get("LastRotatedDate"))
        or (current_version.created_at if current_version else None),
        last_accessed=md.parse_time(entry.get("LastAccessedDate")),
        metadata=metadata,
        tags=tags,
        versions=tuple(remote),
        rotation=rotation,
        details=details,
    )


def _not_after(moment, limit):
    return min(moment, limit) if moment and limit else moment
