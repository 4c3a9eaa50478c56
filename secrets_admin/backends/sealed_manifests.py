"""SealedSecret manifests: finding them in YAML text and describing them without their values.

A file may hold several YAML documents. Ordinary Kubernetes objects beside a SealedSecret
(Deployments, ConfigMaps...) are skipped; what is broken is reported: YAML that does not parse,
a document that is not a Kubernetes object at all, a `kind: SealedSecret` of another apiVersion,
a SealedSecret without a name or data, a value that is not kubeseal's format.
"""

from dataclasses import dataclass, field

import yaml

from secrets_admin.backends import sealing

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
# Console-owned metadata lives in annotations under this prefix (owner, purpose, environment,
# kind; anything else under it is a tag). The sealing certificate we sealed with is noted too.
PREFIX = "candlefish.dev/"
SEALED_WITH = PREFIX + "sealed-with"


@dataclass
class Manifest:
    file: str  # path inside the clone
    index: int  # which document of the file (0-based)
    name: str
    namespace: str
    scope: str
    keys: tuple[str, ...]
    encrypted: dict[str, str] = field(repr=False)  # key -> ciphertext (safe: sealed), for checks
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return manifest_path(self.file, self.namespace, self.name)

    @property
    def label(self) -> bytes:
        return sealing.label_for(self.scope, self.namespace, self.name)

    def console_annotations(self) -> dict[str, str]:
        """Annotations under the console's prefix, prefix removed (sealed-with excluded)."""
        return {
            key.removeprefix(PREFIX): str(value)
            for key, value in self.annotations.items()
            if key.startswith(PREFIX) and key != SEALED_WITH
        }


def manifest_path(file: str, namespace: str, name: str) -> str:
    """The stable id of one SealedSecret: its file, then namespace/name (name alone when it has
    no namespace, as a cluster-wide one may)."""
    return f"{file}#{namespace}/{name}" if namespace else f"{file}#{name}"


def parse(file: str, text: str) -> tuple[list[Manifest], list[str]]:
    """(SealedSecrets found, problems in words) for one file's text. Never raises on bad input."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        return [], [f"malformed YAML{where}: {problem}"]
    manifests, problems = [], []
    for index, doc in enumerate(documents):
        if doc is None:
            continue  # an empty document (a trailing ---)
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            problems.append(f"document {index + 1} is not a Kubernetes object (no apiVersion and kind)")
            continue
        if doc.get("kind") != KIND:
            continue  # another kind of object beside our manifests: not ours to judge
        if doc.get("apiVersion") != API_VERSION:
            problems.append(
                f"document {index + 1} is a SealedSecret of apiVersion {doc.get('apiVersion')!r}, "
                f"not {API_VERSION}"
            )
            continue
        manifest, why = _manifest(file, index, doc)
        if manifest is None:
            problems.append(f"document {index + 1}: {why}")
        else:
            manifests.append(manifest)
    return manifests, problems


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _manifest(file: str, index: int, doc: dict) -> tuple[Manifest | None, str]:
    meta, spec = _dict(doc.get("metadata")), _dict(doc.get("spec"))
    template_meta = _dict(_dict(spec.get("template")).get("metadata"))
    name = meta.get("name") or template_meta.get("name")
    if not isinstance(name, str) or not name:
        return None, "a SealedSecret without metadata.name"
    namespace = meta.get("namespace") or template_meta.get("namespace") or ""
    encrypted = spec.get("encryptedData")
    if not isinstance(encrypted, dict) or not encrypted:
        return None, f"SealedSecret {name} has no spec.encryptedData"
    annotations = {str(k): str(v) for k, v in _dict(meta.get("annotations")).items()}
    # The controller reads the scope from the template; kubeseal writes it on both.
    scope = sealing.scope_of({**annotations, **_dict(template_meta.get("annotations"))})
    manifest = Manifest(
        file=file,
        index=index,
        name=name,
        namespace=str(namespace),
        scope=scope,
        keys=tuple(sorted(str(key) for key in encrypted)),
        encrypted={str(k): str(v) for k, v in encrypted.items()},
        annotations=annotations,
        labels={str(k): str(v) for k, v in _dict(meta.get("labels")).items()},
    )
    if scope != "cluster-wide" and not manifest.namespace:
        manifest.problems.append(f"scope {scope} needs a namespace, and {name} has none")
    for key, text in manifest.encrypted.items():
        try:
            sealing.split(text)
        except sealing.SealingError as exc:
            manifest.problems.append(f"value {key!r} is not in kubeseal's format ({exc})")
    return manifest, ""


def render(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def replace_document(text: str, index: int, doc: dict) -> str:
    """The file's text with document `index` replaced by `doc` (the others kept as they parse)."""
    documents = list(yaml.safe_load_all(text))
    documents[index] = doc
    return "---\n".join(render(d) for d in documents if d is not None)


def document(
    *,
    name: str,
    namespace: str,
    scope: str,
    encrypted: dict[str, str],
    annotations=None,
    labels=None,
    template_type: str = "Opaque",
) -> dict:
    """A SealedSecret as kubeseal writes it: the scope annotation on the object and its template."""
    scoped = {}
    if scope == "cluster-wide":
        scoped[sealing.CLUSTER_WIDE] = "true"
    elif scope == "namespace-wide":
        scoped[sealing.NAMESPACE_WIDE] = "true"
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    if scoped or annotations:
        meta["annotations"] = {**scoped, **(annotations or {})}
    if labels:
        meta["labels"] = dict(labels)
    template_meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    if scoped:
        template_meta["annotations"] = dict(scoped)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": meta,
        "spec": {
            "encryptedData": dict(encrypted),
            "template": {"metadata": template_meta, "type": template_type},
        },
    }
