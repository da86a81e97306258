"""The bound on resources per (principal, action) and the per-action filter (ctlint.usage.resource_bound)."""

from __future__ import annotations

from ctlint.catalog import Catalog
from ctlint.usage.resource_bound import RESOURCE_LIMIT, bounded, is_collapsed, takes_resource

A, B = "111122223333", "444455556666"


def test_within_the_bound_nothing_changes() -> None:
    arns = {f"arn:aws:s3:::b/k{n}" for n in range(RESOURCE_LIMIT)}
    assert bounded(arns) == frozenset(arns)
    assert not any(is_collapsed(a) for a in bounded(arns))


def test_beyond_the_bound_objects_collapse_within_their_bucket() -> None:
    arns = {f"arn:aws:s3:::data/2026/06/{n:03}.csv" for n in range(200)} | {"arn:aws:s3:::other/x"}
    assert bounded(arns) == {"arn:aws:s3:::data/2026/06/*", "arn:aws:s3:::other/x"}


def test_a_collapse_is_never_broader_than_the_shared_prefix() -> None:
    arns = {f"arn:aws:s3:::data/{c}{n}" for c in "ab" for n in range(40)}
    (pattern,) = bounded(arns, limit=10)
    assert pattern == "arn:aws:s3:::data/*"  # 'a…' and 'b…' share only the bucket
    tables = {f"arn:aws:dynamodb:eu-west-1:{A}:table/orders-{n}" for n in range(100)}
    assert bounded(tables) == {f"arn:aws:dynamodb:eu-west-1:{A}:table/orders-*"}


def test_accounts_and_regions_stay_apart_while_a_narrower_collapse_fits() -> None:
    arns = {f"arn:aws:dynamodb:eu-west-1:{account}:table/t{n}" for account in (A, B) for n in range(50)}
    arns |= {f"arn:aws:dynamodb:us-east-1:{A}:table/t{n}" for n in range(50)}
    assert bounded(arns) == {
        f"arn:aws:dynamodb:eu-west-1:{A}:table/t*",
        f"arn:aws:dynamodb:eu-west-1:{B}:table/t*",
        f"arn:aws:dynamodb:us-east-1:{A}:table/t*",
    }


def test_too_many_scopes_widen_step_by_step_and_stay_within_the_limit() -> None:
    buckets = {f"arn:aws:s3:::bucket-{n}/k" for n in range(100)}
    result = bounded(buckets)
    assert result == {"arn:aws:s3:::bucket-*"} and len(result) <= RESOURCE_LIMIT
    per_account = {f"arn:aws:sqs:eu-west-1:{n:012}:q" for n in range(100)}
    # 100 accounts: collapsed within the service, to the prefix the records share (here part of the id)
    assert bounded(per_account) == {"arn:aws:sqs:eu-west-1:0000000000*"}
    assert all(is_collapsed(p) for p in bounded(per_account))


def test_only_arns_of_a_type_the_action_takes() -> None:
    catalog = Catalog.load()
    get_object = catalog.resource_types("s3:GetObject")
    assert takes_resource(get_object, "arn:aws:s3:::b/k")
    assert not takes_resource(get_object, "arn:aws:s3:::b")  # the bucket a GetObject record also names
    assert not takes_resource(catalog.resource_types("s3:ListAllMyBuckets"), "arn:aws:s3:::b")  # only `*`
    assert takes_resource(catalog.resource_types("s3:ListBucket"), "arn:aws:s3:::b")
    assert takes_resource(catalog.resource_types("s3:GetObject"), "arn:aws-cn:s3:::b/k")


def test_the_format_regex_agrees_with_the_automaton() -> None:
    from ctlint.arnmatch import _automaton, _format_tokens, fits_format

    catalog = Catalog.load()
    formats = {
        t.arn_format
        for a in (
            "s3:GetObject",
            "s3:ListBucket",
            "logs:PutLogEvents",
            "iam:GetRole",
            "lambda:InvokeFunction",
            "kms:CreateAlias",
            "glue:GetTable",
        )
        for t in catalog.resource_types(a)
    }
    values = [
        "arn:aws:s3:::b",
        "arn:aws:s3:::b/k",
        "arn:aws:s3:::b/k:x",
        "arn:aws:s3:::b/",
        "arn:aws:s3:::/k",
        "arn:aws:logs:eu-west-1:111122223333:log-group:/g:log-stream:s",
        "arn:aws:logs:eu-west-1:1:log-group:g",
        "arn:aws:iam::111122223333:role/a/b",
        "arn:aws:iam::111122223333:role/",
        "arn:aws-cn:iam::1:role/r",
        "arn:aws:lambda:eu-west-1:111122223333:function:f",
        "arn:aws:lambda:eu-west-1:1:function:f:1",
        "arn:aws:kms:eu-west-1:1:alias/a",
        "arn:aws:glue:eu-west-1:1:catalog",
        "arn:aws:glue:eu-west-1:1:table/d/t",
        "arn:aws:s3:eu/west:1:accesspoint/x",
        "arn:aws:s3:::b\nc/k",
    ]
    for fmt in formats:
        for value in values:
            for partition in ("aws", "aws-cn"):
                expected = _automaton(_format_tokens(fmt, partition)).accepts(value)
                assert fits_format(fmt, value, partition) == expected, (fmt, value, partition)
