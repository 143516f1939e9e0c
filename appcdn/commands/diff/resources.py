"""Two offline plans' resources compared: added, removed, replaced and changed (with the inputs that change),
and the changes that weaken safety: a protected resource deleted or replaced, a public grant widened.

Resources are matched by type and logical name (the URN, for one stack). Whether an input change replaces a
resource is the provider's call; ``REPLACE_ON`` lists, per type, the inputs whose change forces a new
resource in the providers' schemas (``forceNew`` / ``replaceOnChanges``) that the program uses; any other
change is shown as an update. A change of parent changes the URN, so it replaces too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

EVERY_INPUT = "*"
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "region"}),
    "aws:acm/certificate:Certificate": frozenset(
        {"domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm", "region"}
    ),
    "aws:elasticache/serverlessCache:ServerlessCache": frozenset({"name", "engine", "region"}),
    "aws:elasticache/user:User": frozenset({"userId", "userName", "engine", "region"}),
    "aws:elasticache/userGroup:UserGroup": frozenset({"userGroupId", "engine", "region"}),
    "azure-native:resources:ResourceGroup": frozenset({"resourceGroupName", "location"}),
    "azure-native:storage:StorageAccount": frozenset({"accountName", "resourceGroupName", "location"}),
    "azure-native:storage:BlobContainer": frozenset({"accountName", "containerName", "resourceGroupName"}),
    "azure-native:cache:Redis": frozenset({"name", "resourceGroupName", "location"}),
    "cloudflare:index/zone:Zone": frozenset({"name", "account"}),
    "cloudflare:index/zoneSetting:ZoneSetting": frozenset({"zoneId", "settingId"}),
    "cloudflare:index/ruleset:Ruleset": frozenset({"zoneId", "kind", "phase"}),
    "cloudflare:index/dnsRecord:DnsRecord": frozenset({"zoneId"}),
    "cloudflare:index/cloudConnectorRules:CloudConnectorRules": frozenset({"zoneId"}),
    "cloudflare:index/customSsl:CustomSsl": frozenset({"zoneId"}),
    "cloudflare:index/certificatePack:CertificatePack": frozenset({EVERY_INPUT}),  # never updated in place
    "cloudflare:index/originCaCertificate:OriginCaCertificate": frozenset({EVERY_INPUT}),
    "tls:index/privateKey:PrivateKey": frozenset({EVERY_INPUT}),
    "tls:index/certRequest:CertRequest": frozenset({EVERY_INPUT}),
    "random:index/randomPassword:RandomPassword": frozenset({EVERY_INPUT}),
}
IDENTITY_KEYS = ("ref", "settingId", "name", "id")
"""A list of objects with one of these keys is compared item by item by that key (ruleset rules by ref)."""
MISSING = "(none)"


@dataclass(frozen=True)
class InputChange:
    path: str
    before: Any
    after: Any

    def words(self) -> str:
        return f"{self.path}: {_short(self.before)} → {_short(self.after)}"


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def _identity(before: Sequence[Any], after: Sequence[Any]) -> str | None:
    for key in IDENTITY_KEYS:
        lists = [[str(i[key]) for i in items if isinstance(i, dict) and key in i] for items in (before, after)]
        if all(len(values) == len(items) == len(set(values)) for values, items in zip(lists, (before, after))):
            return key
    return None


def _json_object(value: Any) -> Any:
    """A JSON document held in a string input (a bucket policy), parsed; anything else as it is."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def input_changes(before: Any, after: Any, path: str = "") -> list[InputChange]:
    """Every leaf that differs, by path (``rules[shop-live-static].actionParameters.edgeTtl.default``)."""
    if before == after:
        return []
    before, after = _json_object(before), _json_object(after)
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            c
            for k in sorted(set(before) | set(after), key=str)
            for c in input_changes(before.get(k, MISSING), after.get(k, MISSING), f"{path}.{k}" if path else k)
        ]
    if isinstance(before, list) and isinstance(after, list):
        key = _identity(before, after) if before and after else None
        if key is not None:
            old, new = {str(i[key]): i for i in before}, {str(i[key]): i for i in after}
            changes = [
                c
                for k in [*old, *(k for k in new if k not in old)]
                for c in input_changes(old.get(k, MISSING), new.get(k, MISSING), f"{path}[{k}]")
            ]
            if [k for k in old if k in new] != [k for k in new if k in old]:
                changes.append(InputChange(f"{path} order", [k for k in old if k in new], [k for k in new if k in old]))
            return changes
        if len(before) == len(after):
            return [c for i, (b, a) in enumerate(zip(before, after)) for c in input_changes(b, a, f"{path}[{i}]")]
    return [InputChange(path, before, after)]


@dataclass(frozen=True)
class ResourceChange:
    kind: str
    """added, removed, replaced or changed."""
    type: str
    name: str
    protected: bool = False
    """On the base: protected or retained on delete."""
    changes: tuple[InputChange, ...] = field(default=())

    @property
    def weakens(self) -> bool:
        return self.protected and self.kind in ("removed", "replaced")

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": self.type,
            "name": self.name,
            "protected": self.protected,
            "weakens_safety": self.weakens,
            "changes": [{"path": c.path, "before": c.before, "after": c.after} for c in self.changes],
        }


def _replaces(type_: str, changes: Sequence[InputChange]) -> bool:
    forcing = REPLACE_ON.get(type_, frozenset())
    roots = {c.path.split(".", 1)[0].split("[", 1)[0] for c in changes}
    return (
        "(parent)" in roots
        or (EVERY_INPUT in forcing and bool(roots - {"(protect)", "(retain_on_delete)"}))
        or bool(roots & forcing)
    )


def resource_changes(base: Sequence[Mapping[str, Any]], head: Sequence[Mapping[str, Any]]) -> list[ResourceChange]:
    """Added, removed, replaced and changed resources, by type and logical name."""
    old = {(r["type"], r["name"]): r for r in base}
    new = {(r["type"], r["name"]): r for r in head}
    found = []
    for key in [*old, *(k for k in new if k not in old)]:
        b, a = old.get(key), new.get(key)
        protected = bool(b and (b["protect"] or b["retain_on_delete"]))
        if b is None or a is None:
            found.append(ResourceChange("added" if b is None else "removed", key[0], key[1], protected))
            continue
        changes = input_changes(b["inputs"], a["inputs"])
        for option in ("parent", "protect", "retain_on_delete"):
            if b[option] != a[option]:
                changes.append(InputChange(f"({option})", b[option], a[option]))
        if changes:
            kind = "replaced" if _replaces(key[0], changes) else "changed"
            found.append(ResourceChange(kind, key[0], key[1], protected, tuple(changes)))
    return found


def public_grants(resource: Mapping[str, Any]) -> set[str]:
    """What a resource lets anyone do, in words: public bucket-policy statements, public-access blocks off,
    public containers and accounts that allow them."""
    inputs, type_ = resource["inputs"], resource["type"]
    grants: set[str] = set()
    if type_ == "aws:s3/bucketPolicy:BucketPolicy" and isinstance(inputs.get("policy"), str):
        for statement in json.loads(inputs["policy"]).get("Statement", []):
            principal = statement.get("Principal")
            if statement.get("Effect") == "Allow" and principal in ("*", {"AWS": "*"}):
                for action in _as_list(statement.get("Action")):
                    grants |= {f"anyone may {action} {_in_bucket(r)}" for r in _as_list(statement.get("Resource"))}
    elif type_ == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        grants |= {
            f"{flag} off"
            for flag in ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
            if inputs.get(flag) is False
        }
    elif type_ == "azure-native:storage:BlobContainer" and inputs.get("publicAccess", "None") != "None":
        grants.add(f"anonymous {inputs['publicAccess']} access to container {inputs.get('containerName')}")
    elif type_ == "azure-native:storage:StorageAccount" and inputs.get("allowBlobPublicAccess"):
        grants.add("account allows anonymous blob access")
    return grants


def _in_bucket(arn: str) -> str:
    """``arn:aws:s3:::bucket/docs/*`` → ``docs/*`` (a renamed bucket grants nothing new)."""
    _, _, key = arn.partition(":::")[2].partition("/")
    return key or "the bucket itself"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class GrantChange:
    type: str
    name: str
    added: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "added": list(self.added)}


def widened_grants(base: Sequence[Mapping[str, Any]], head: Sequence[Mapping[str, Any]]) -> list[GrantChange]:
    """Public grants the head makes that the base did not, per resource (a new resource's included)."""
    old = {(r["type"], r["name"]): public_grants(r) for r in base}
    found = []
    for r in head:
        added = public_grants(r) - old.get((r["type"], r["name"]), set())
        if added:
            found.append(GrantChange(r["type"], r["name"], tuple(sorted(added))))
    return found
