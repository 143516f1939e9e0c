"""Resources of two plans compared: which change, how (inputs by path, list items by their ref), which are
replaced, and which changes weaken safety."""

import json
from typing import Any

from appcdn.commands.diff.resources import InputChange, input_changes, public_grants, resource_changes, widened_grants


def resource(
    type_: str = "cloudflare:index/ruleset:Ruleset",
    name: str = "z-cache-rules",
    protect: bool = False,
    parent: str | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    return {
        "type": type_,
        "name": name,
        "parent": parent,
        "protect": protect,
        "retain_on_delete": protect,
        "inputs": inputs,
    }


def test_rules_are_compared_by_ref_whatever_their_position() -> None:
    before = [{"ref": "a", "cache": True}, {"ref": "b", "cache": False}]
    after = [{"ref": "b", "cache": True}, {"ref": "a", "cache": True}, {"ref": "c", "cache": True}]
    assert input_changes({"rules": before}, {"rules": after}) == [
        InputChange("rules[b].cache", False, True),
        InputChange("rules[c]", "(none)", {"ref": "c", "cache": True}),
        InputChange("rules order", ["a", "b"], ["b", "a"]),
    ]


def test_a_json_policy_is_compared_as_json() -> None:
    old = json.dumps({"Statement": [{"Effect": "Allow", "Resource": ["a/*"]}]})
    new = json.dumps({"Statement": [{"Effect": "Allow", "Resource": ["a/*", "b/*"]}]})
    [found] = input_changes({"policy": old}, {"policy": new})
    assert found.path == "policy.Statement[0].Resource" and found.after == ["a/*", "b/*"]


def test_inputs_the_provider_cannot_update_replace_the_resource_and_others_change_it() -> None:
    base = [resource(zoneId="z", phase="p", rules=[]), resource("aws:s3/bucket:Bucket", "b", True, bucket="one")]
    head = [
        resource(zoneId="z2", phase="p", rules=[]),
        resource("aws:s3/bucket:Bucket", "b", True, bucket="one", tags={"a": "b"}),
    ]
    kinds = {(c.name, c.kind, c.weakens) for c in resource_changes(base, head)}
    assert kinds == {("z-cache-rules", "replaced", False), ("b", "changed", False)}


def test_a_new_parent_is_a_new_urn_and_removing_protection_is_said() -> None:
    base = [resource("aws:s3/bucket:Bucket", "b", True, parent="old")]
    [change] = resource_changes(base, [resource("aws:s3/bucket:Bucket", "b", False, parent="new")])
    assert change.kind == "replaced" and change.weakens
    assert {c.path for c in change.changes} == {"(parent)", "(protect)", "(retain_on_delete)"}


def test_public_grants_are_read_from_policies_access_blocks_and_containers() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": ["arn:aws:s3:::b/filer_public/*"],
            },
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b"},
        ]
    }
    assert public_grants(resource("aws:s3/bucketPolicy:BucketPolicy", policy=json.dumps(policy))) == {
        "anyone may s3:GetObject filer_public/*"
    }
    block = resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", blockPublicAcls=True, blockPublicPolicy=False
    )
    assert public_grants(block) == {"blockPublicPolicy off"}
    container = resource("azure-native:storage:BlobContainer", containerName="public", publicAccess="Blob")
    assert public_grants(container) == {"anonymous Blob access to container public"}
    assert public_grants(resource("azure-native:storage:StorageAccount", allowBlobPublicAccess=True))


def test_a_grant_is_widened_when_the_head_makes_one_the_base_did_not() -> None:
    private = resource("azure-native:storage:BlobContainer", "c", containerName="public", publicAccess="None")
    public = resource("azure-native:storage:BlobContainer", "c", containerName="public", publicAccess="Container")
    [widened] = widened_grants([private], [public])
    assert widened.added == ("anonymous Container access to container public",)
    assert widened_grants([public], [private]) == []
