"""Mapping fixes of issue 15: actions no policy controls, and API Gateway verbs from botocore's model."""

import datagen
import pytest

from ctlint.catalog import Catalog
from ctlint.errors import InputError
from ctlint.events import EventMapping, iam_prefix, load_tables, map_event, uncontrolled_actions
from ctlint.model import Observability

APIGW = "apigateway.amazonaws.com"


@pytest.mark.parametrize("name", ["GetSessionToken", "GetCallerIdentity"])
def test_sts_calls_that_need_no_permission_map_to_no_action(name):
    assert map_event("sts.amazonaws.com", name) == EventMapping("no_iam_action", ())


def test_uncontrolled_actions_are_the_sts_authentication_calls():
    assert uncontrolled_actions() == frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken"})
    catalog = Catalog.load()
    assert all(catalog.canonical(a) == a for a in uncontrolled_actions())
    # Other STS calls stay controlled: GetAccessKeyInfo and AssumeRole need a permission.
    assert map_event("sts.amazonaws.com", "GetAccessKeyInfo").actions == ("sts:GetAccessKeyInfo",)
    assert map_event("sts.amazonaws.com", "AssumeRole").actions == ("sts:AssumeRole",)


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("ImportRestApi", "apigateway:POST"),  # POST /restapis?mode=import (was PUT by the Import* rule)
        ("ImportApiKeys", "apigateway:POST"),  # POST /apikeys?mode=import
        ("ImportDocumentationParts", "apigateway:PUT"),  # PUT: the same prefix, another verb
        ("ExportApi", "apigateway:GET"),  # v2 GET /v2/apis/{apiId}/exports/{specification} (was unmapped)
        ("ImportApi", "apigateway:PUT"),  # v2 PUT /v2/apis
        ("ReimportApi", "apigateway:PUT"),
        ("ResetAuthorizersCache", "apigateway:DELETE"),  # v2, no verb-like prefix (was unmapped)
        ("GetExport", "apigateway:GET"),
        ("GetPortal", "apigateway:GetPortal"),  # a named action still wins
    ],
)
def test_api_gateway_operations_map_to_their_http_verb(name, action):
    assert map_event(APIGW, name).actions == (action,)


def test_an_operation_whose_verb_differs_between_v1_and_v2_credits_both():
    assert map_event(APIGW, "TagResource").actions == ("apigateway:POST", "apigateway:PUT")


def _botocore_methods(service):
    botocore_session = pytest.importorskip("botocore.session", reason="botocore is a test dependency")
    loader = botocore_session.get_session().get_component("data_loader")
    model = loader.load_service_model(service, "service-2")
    return {op: spec["http"]["method"] for op, spec in model["operations"].items()}


@pytest.mark.parametrize("service", ["apigateway", "apigatewayv2"])
def test_every_api_gateway_operation_maps_to_its_botocore_method(service):
    """The whole class of error, not one symptom: read the model here, independently of the generator."""
    catalog = Catalog.load()
    methods = _botocore_methods(service)
    assert len(methods) > 90
    wrong = []
    for op, method in sorted(methods.items()):
        mapping = map_event(APIGW, op)
        named = catalog.canonical(f"apigateway:{op}")
        expected = (named,) if named else None
        if expected is None and op != "TagResource":
            expected = (f"apigateway:{method}",)
        if expected is not None and mapping.actions != expected:
            wrong.append((op, method, mapping.actions))
    assert wrong == []


def test_verb_targets_are_management_actions():
    catalog = Catalog.load()
    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        info = catalog.info(f"apigateway:{verb}")
        assert info is not None and info.observability is Observability.MANAGEMENT


def test_verb_table_targets_exist_in_the_catalog():
    catalog = Catalog.load()
    tables = load_tables()
    assert tables.verb_actions[APIGW]
    for source, events in tables.verb_actions.items():
        for name, actions in events.items():
            for action in actions:
                assert catalog.canonical(action) == action, f"{source} {name} -> {action}"


def test_rds_data_api_event_source():
    assert iam_prefix("rdsdata.amazonaws.com") == "rds-data"
    assert map_event("rdsdata.amazonaws.com", "ExecuteStatement").actions == ("rds-data:ExecuteStatement",)


def test_global_services_record_in_their_signing_region():
    regions = load_tables().global_services
    assert regions["iam"] == "us-east-1"
    assert regions["route53"] == "us-east-1"
    assert regions["cloudfront"] == "us-east-1"
    assert "ec2" not in regions and "s3" not in regions


def _sources_with(tmp_path, name, old, new):
    import shutil
    from pathlib import Path

    target = tmp_path / "sources"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sources", target)
    path = target / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return target


def test_a_verb_rule_contradicting_botocore_fails_generation(tmp_path):
    sources = _sources_with(
        tmp_path, "event_names.yaml", '      Put: "apigateway:PUT"\n', '      Import: "apigateway:PUT"\n'
    )
    with pytest.raises(InputError, match=r"Import\* -> apigateway:PUT .*ImportApiKeys"):
        datagen.build(sources)


def test_an_unresolved_verb_conflict_fails_generation(tmp_path):
    sources = _sources_with(tmp_path, "event_names.yaml", "      TagResource:\n", "      TagResourceX:\n")
    with pytest.raises(InputError, match="TagResource has the methods"):
        datagen.build(sources)


def test_an_uncontrolled_action_missing_from_the_catalog_fails_generation(tmp_path):
    sources = _sources_with(
        tmp_path, "no_iam_action.yaml", '["sts:GetSessionToken"]', '["sts:GetSessionTokens"]'
    )
    with pytest.raises(InputError, match="sts:GetSessionTokens"):
        datagen.build(sources)
