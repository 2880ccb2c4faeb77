"""Reverse dependency order for deleting stack resources (keel.local.patches.cfn_delete_order)."""

from __future__ import annotations

from keel.local.patches.cfn_delete_order import deletion_order, references

DEFINITIONS = {
    "Key": {"Type": "AWS::KMS::Key"},
    "Session": {"Type": "AWS::Macie::Session"},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}}},
    "Job": {
        "Type": "Custom::KeelMacieClassificationJob",
        "DependsOn": "Session",
        "Properties": {"Buckets": [{"Ref": "Bucket"}], "Name": {"Fn::Sub": "${AWS::StackName}-${Bucket}"}},
    },
}


def test_references_cover_ref_getatt_and_sub() -> None:
    node = {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": "Y.Arn"},
        "C": {"Fn::Sub": ["${Z.Arn}/${V}", {"V": {"Ref": "W"}}]},
    }
    assert references(node) == {"X", "Y", "Z", "V", "W"}


def test_dependents_go_first() -> None:
    order = deletion_order(DEFINITIONS, list(DEFINITIONS))
    assert order.index("Job") < order.index("Session")
    assert order.index("Job") < order.index("Bucket") < order.index("Key")


def test_cycles_do_not_hang() -> None:
    cycle = {"A": {"DependsOn": "B"}, "B": {"DependsOn": "A"}}
    assert sorted(deletion_order(cycle, ["A", "B"])) == ["A", "B"]
