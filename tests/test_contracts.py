"""Event contracts 事件契约: published schemas are fresh, subjects well-formed, payloads round-trip,
and v1 stays backward compatible with the frozen baseline."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev group
import pytest
import yaml
from contract_samples import CASE_NO, PAYLOADS

from yiwang_common.contracts import ALL_EVENTS, management
from yiwang_common.events import EventData, EventEnvelope, make_event

ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = ROOT / "docs" / "events"
BASELINE_DIR = Path(__file__).parent / "contracts_v1_baseline"
SERVICES = ("gateway", "management", "business", "datasharing")
SUBJECT_RE = re.compile(
    r"^yiwang\.(?P<service>[a-z][a-z0-9_]*)\.(?P<aggregate>[a-z][a-z0-9_]*)\.(?P<event>[a-z][a-z0-9_]*)\.v(?P<major>[1-9][0-9]*)$"
)


def _load_exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "export_contracts", ROOT / "scripts" / "export_contracts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def exporter() -> ModuleType:
    return _load_exporter()


def _published(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return schema


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


class TestPublishedSchemas:
    def test_docs_events_equal_a_fresh_render(self, exporter: ModuleType) -> None:
        stale = exporter.stale_files(EVENTS_DIR)
        assert stale == [], f"docs/events is stale ({stale}); run: uv run python scripts/export_contracts.py"

    def test_check_mode_fails_on_an_edited_or_leftover_file(
        self, exporter: ModuleType, tmp_path: Path
    ) -> None:
        assert exporter.main(["--out", str(tmp_path)]) == 0
        assert exporter.main(["--check", "--out", str(tmp_path)]) == 0
        (tmp_path / "envelope.json").write_text("{}\n", encoding="utf-8")
        (tmp_path / "yiwang.gateway.old.removed.v1.json").write_text("{}\n", encoding="utf-8")
        assert exporter.stale_files(tmp_path) == ["envelope.json", "yiwang.gateway.old.removed.v1.json"]
        assert exporter.main(["--check", "--out", str(tmp_path)]) == 1

    def test_render_is_deterministic(self, exporter: ModuleType) -> None:
        assert exporter.render() == exporter.render()

    @pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
    def test_payload_schema_carries_id_title_subject_and_type(self, event: type[EventData]) -> None:
        schema = _published(f"{event.subject}.json")
        assert schema["$id"] == f"urn:yiwang:events:{event.subject}"
        assert schema["title"] == event.__name__
        assert schema["x-subject"] == event.subject
        assert schema["x-cloudevents-type"] == event.event_type()
        jsonschema.Draft202012Validator.check_schema(schema)

    def test_envelope_schema_is_published(self) -> None:
        schema = _published("envelope.json")
        assert schema["title"] == "EventEnvelope"
        assert {"id", "source", "type", "data", "specversion"} <= schema["properties"].keys()
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EVENTS_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))
    return loaded


class TestAsyncApi:
    def test_one_channel_per_subject(self, document: dict[str, Any]) -> None:
        assert document["asyncapi"] == "3.0.0"
        addresses = sorted(channel["address"] for channel in document["channels"].values())
        assert addresses == sorted(event.subject for event in ALL_EVENTS)
        assert all(re.fullmatch(r"[A-Za-z0-9_\-]+", key) for key in document["channels"])

    def test_every_reference_resolves(self, document: dict[str, Any]) -> None:
        unresolved = [ref for ref in _refs(document) if not _resolves(document, ref)]
        assert unresolved == []

    def test_nats_server_and_msg_id_header_are_documented(self, document: dict[str, Any]) -> None:
        server = document["servers"]["nats"]
        assert server["protocol"] == "nats"
        assert "nats" in server["bindings"]
        headers = document["components"]["schemas"]["NatsHeaders"]
        assert headers["required"] == ["Nats-Msg-Id"]
        for message in document["components"]["messages"].values():
            assert message["headers"] == {"$ref": "#/components/schemas/NatsHeaders"}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return (EVENTS_DIR / ref).is_file()
    node: Any = document
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


#: Past participles that do not end in -ed (``item.withdrawn``: 事项已撤销, the brief's name).
IRREGULAR_PAST = frozenset({"withdrawn", "paid"})


def subject_problems(subject: str, services: tuple[str, ...] = SERVICES) -> list[str]:
    """Return why a subject breaks the ``yiwang.<service>.<aggregate>.<event>.v<N>`` rule."""
    match = SUBJECT_RE.fullmatch(subject)
    if match is None:
        return [f"{subject!r} is not yiwang.<service>.<aggregate>.<event>.v<N>"]
    problems = []
    if match["service"] not in services:
        problems.append(f"unknown service {match['service']!r}")
    if not match["event"].endswith("ed") and match["event"] not in IRREGULAR_PAST:
        problems.append(f"event {match['event']!r} is not past tense")
    return problems


class TestSubjects:
    @pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
    def test_subject_is_well_formed_and_past_tense(self, event: type[EventData]) -> None:
        assert subject_problems(event.subject) == []
        assert event.event_type() == "cn." + event.subject

    @pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
    def test_contract_lives_in_its_producers_module(self, event: type[EventData]) -> None:
        assert event.__module__ == f"yiwang_contracts.{event.producer()}"

    def test_subjects_are_unique(self) -> None:
        subjects = [event.subject for event in ALL_EVENTS]
        assert len(subjects) == len(set(subjects))

    @pytest.mark.parametrize(
        ("subject", "problem"),
        [
            ("yiwang.gateway.application.submit.v1", "not past tense"),
            ("yiwang.portal.application.submitted.v1", "unknown service"),
            ("yiwang.gateway.application.submitted", "is not yiwang."),
            ("yiwang.gateway.Application.submitted.v1", "is not yiwang."),
            ("yiwang.gateway.application.submitted.v0", "is not yiwang."),
        ],
    )
    def test_rule_rejects_bad_subjects(self, subject: str, problem: str) -> None:
        assert any(problem in p for p in subject_problems(subject))


class TestRoundTrip:
    def test_every_contract_has_a_sample_payload(self) -> None:
        assert set(PAYLOADS) == set(ALL_EVENTS)

    @pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
    def test_payload_survives_dump_and_validate(self, event: type[EventData]) -> None:
        instance = event.model_validate(PAYLOADS[event]())
        dumped = json.loads(json.dumps(instance.model_dump(mode="json")))
        assert event.model_validate(dumped) == instance
        _validator(_published(f"{event.subject}.json")).validate(dumped)

    @pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
    def test_payload_survives_the_envelope(self, event: type[EventData]) -> None:
        instance = event.model_validate(PAYLOADS[event]())
        envelope = make_event(
            instance, source="urn:yiwang:530428:test", subject=CASE_NO, correlation_id=CASE_NO
        )
        wire = envelope.model_dump_json()
        received = EventEnvelope.model_validate_json(wire)
        assert received.nats_subject == event.subject
        assert event.model_validate(received.data) == instance
        _validator(_published("envelope.json")).validate(json.loads(wire))

    def test_payload_missing_a_required_field_is_rejected_by_model_and_schema(self) -> None:
        payload = PAYLOADS[management.CaseRejected]()
        del payload["reason"]
        with pytest.raises(ValueError, match="reason"):
            management.CaseRejected.model_validate(payload)
        with pytest.raises(jsonschema.ValidationError, match="reason"):
            _validator(_published(f"{management.CaseRejected.subject}.json")).validate(payload)


# Keys that describe a field without constraining its values: editing them is compatible.
ANNOTATIONS = frozenset({"title", "description", "examples", "default", "deprecated", "$comment"})


def _shape(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in sorted(node.items()) if k not in ANNOTATIONS}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return node


def _compare_object(baseline: dict[str, Any], current: dict[str, Any], where: str) -> list[str]:
    problems = []
    current_props = current.get("properties", {})
    for name, schema in baseline.get("properties", {}).items():
        if name not in current_props:
            problems.append(f"{where}.{name}: removed")
        elif _shape(current_props[name]) != _shape(schema):
            problems.append(
                f"{where}.{name}: type changed from {_shape(schema)} to {_shape(current_props[name])}"
            )
    for name in sorted(set(current.get("required", [])) - set(baseline.get("required", []))):
        problems.append(f"{where}.{name}: newly required")
    return problems


def compatibility_problems(baseline: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """List the ways ``current`` breaks v1 readers or writers of ``baseline``.

    Within a major version only optional fields may be added. A field's "type" is its schema
    minus annotations, so narrowing or widening constraints and enum values counts as a change
    and needs a new major version.
    """
    title = baseline.get("title", "schema")
    problems = _compare_object(baseline, current, title)
    current_defs = current.get("$defs", {})
    for name, definition in baseline.get("$defs", {}).items():
        if name not in current_defs:
            problems.append(f"{title}.$defs.{name}: removed")
        else:
            problems.extend(_compare_object(definition, current_defs[name], f"{title}.{name}"))
    return problems


def _baseline(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((BASELINE_DIR / name).read_text(encoding="utf-8"))
    return schema


BASELINE_FILES = sorted(p.name for p in BASELINE_DIR.glob("*.json"))


class TestV1Compatibility:
    def test_baseline_covers_every_v1_subject_published_today(self) -> None:
        assert {f"{event.subject}.json" for event in ALL_EVENTS} <= set(BASELINE_FILES)

    @pytest.mark.parametrize("name", BASELINE_FILES)
    def test_current_schema_is_compatible_with_baseline(self, name: str, exporter: ModuleType) -> None:
        rendered = exporter.render()
        assert name in rendered, f"{name} was removed; a v1 event may only be retired in a new major version"
        baseline = _baseline(name)
        assert compatibility_problems(baseline, json.loads(rendered[name])) == []

    @pytest.fixture
    def baseline(self) -> dict[str, Any]:
        return _baseline(f"{management.CaseAccepted.subject}.json")

    def test_guard_allows_a_new_optional_field_and_new_descriptions(self, baseline: dict[str, Any]) -> None:
        current = copy.deepcopy(baseline)
        current["properties"]["window_no"] = {"type": "string", "default": ""}
        current["properties"]["handler_name"]["description"] = "受理人员"
        assert compatibility_problems(baseline, current) == []

    def test_guard_reports_a_removed_field(self, baseline: dict[str, Any]) -> None:
        current = copy.deepcopy(baseline)
        del current["properties"]["handler_name"]
        assert compatibility_problems(baseline, current) == ["CaseAccepted.handler_name: removed"]

    def test_guard_reports_a_changed_type_in_a_nested_definition(self, baseline: dict[str, Any]) -> None:
        current = copy.deepcopy(baseline)
        current["$defs"]["Organisation"]["properties"]["code"] = {"type": "integer"}
        assert compatibility_problems(baseline, current) == [
            "CaseAccepted.Organisation.code: type changed from {'type': 'string'} to {'type': 'integer'}"
        ]

    def test_guard_reports_a_newly_required_field(self, baseline: dict[str, Any]) -> None:
        current = copy.deepcopy(baseline)
        current["properties"]["window_no"] = {"type": "string"}
        current["required"].append("window_no")
        assert compatibility_problems(baseline, current) == ["CaseAccepted.window_no: newly required"]
