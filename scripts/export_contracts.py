"""Publish the event contracts 事件契约 as JSON Schema and AsyncAPI 3.0 under ``docs/events/``.

Writes one ``<subject>.json`` per payload in :data:`yiwang_common.contracts.ALL_EVENTS`,
``envelope.json`` (the CloudEvents envelope) and ``asyncapi.yaml``. Output is deterministic
(sorted keys, contract order), so the committed files can be compared with a fresh render.

Usage::

    uv run python scripts/export_contracts.py            # (re)write docs/events/
    uv run python scripts/export_contracts.py --check    # exit 1 when docs/events/ is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from yiwang_common.contracts import ALL_EVENTS
from yiwang_common.events.envelope import EventData, EventEnvelope
from yiwang_common.events.streams import stream_name

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "docs" / "events"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:yiwang:events:"
ENVELOPE_FILE = "envelope.json"
ASYNCAPI_FILE = "asyncapi.yaml"


def schema_file(event: type[EventData]) -> str:
    """Return the file name of an event's payload schema, e.g. ``yiwang.gateway.application.submitted.v1.json``."""
    return f"{event.subject}.json"


def channel_id(event: type[EventData]) -> str:
    """Return the AsyncAPI channel key; keys may not contain dots, subjects do."""
    return event.subject.replace(".", "_")


def _dump_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def payload_schema(event: type[EventData]) -> dict[str, Any]:
    """Return the JSON Schema of one event payload, annotated with its subject and type."""
    schema = event.model_json_schema()
    schema.update(
        {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": ID_PREFIX + event.subject,
            "title": event.__name__,
            "x-subject": event.subject,
            "x-cloudevents-type": event.event_type(),
            "x-producer": event.producer(),
        }
    )
    return schema


def envelope_schema() -> dict[str, Any]:
    """Return the JSON Schema of the CloudEvents envelope every event travels in."""
    schema = EventEnvelope.model_json_schema()
    schema.update({"$schema": JSON_SCHEMA_DIALECT, "$id": ID_PREFIX + "envelope", "title": "EventEnvelope"})
    return schema


def _summary(event: type[EventData]) -> str:
    return (event.__doc__ or event.__name__).strip().splitlines()[0]


def _message(event: type[EventData]) -> dict[str, Any]:
    return {
        "name": event.__name__,
        "title": event.__name__,
        "summary": _summary(event),
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/NatsHeaders"},
        "payload": {
            "allOf": [
                {"$ref": f"./{ENVELOPE_FILE}"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": event.event_type()},
                        "data": {"$ref": f"./{schema_file(event)}"},
                    },
                },
            ]
        },
        "x-cloudevents-type": event.event_type(),
    }


def asyncapi_document() -> dict[str, Any]:
    """Return the AsyncAPI 3.0 description of every event: one channel per subject."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in ALL_EVENTS:
        cid = channel_id(event)
        messages[event.__name__] = _message(event)
        channels[cid] = {
            "address": event.subject,
            "title": event.__name__,
            "summary": _summary(event),
            "messages": {event.__name__: {"$ref": f"#/components/messages/{event.__name__}"}},
            "x-stream": stream_name(event.producer()),
            "x-producer": event.producer(),
        }
        operations[f"{event.producer()}_publishes_{event.__name__}"] = {
            "action": "send",
            "title": f"{event.producer()} publishes {event.__name__}",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{event.__name__}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "yiwang events 一网 事件",
            "version": "1.0.0",
            "description": (
                "Events between the yiwang services on NATS JetStream. Each event is a CloudEvents 1.0 "
                "envelope in structured mode (envelope.json) whose `data` is the payload schema of its "
                "subject. One stream per producer (YIWANG_<SERVICE>, subjects `yiwang.<service>.>`); "
                "within v1 only optional fields are added."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "NATS JetStream cluster (NATS_URL); durable pull consumers `<consumer>__<producer>`.",
                # The NATS server binding has no fields yet; its presence names the protocol binding.
                "bindings": {"nats": {}},
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "NatsHeaders": {
                    "type": "object",
                    "required": ["Nats-Msg-Id"],
                    "properties": {
                        "Nats-Msg-Id": {
                            "type": "string",
                            "format": "uuid",
                            "description": (
                                "The envelope `id`. JetStream drops a re-send with the same id inside "
                                "the stream's duplicate window, so relay retries publish at most once."
                            ),
                        }
                    },
                }
            },
        },
    }


def render() -> dict[str, str]:
    """Return every file of ``docs/events/`` as ``{file name: content}``."""
    files = {schema_file(event): _dump_json(payload_schema(event)) for event in ALL_EVENTS}
    files[ENVELOPE_FILE] = _dump_json(envelope_schema())
    files[ASYNCAPI_FILE] = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=True, width=110)
    return files


def stale_files(out_dir: Path = OUT_DIR) -> list[str]:
    """Return the names of files that differ from a fresh render, are missing, or are left over."""
    expected = render()
    present = {p.name for p in out_dir.glob("*") if p.is_file()} if out_dir.is_dir() else set()
    changed = [
        name
        for name, content in expected.items()
        if name not in present or (out_dir / name).read_text(encoding="utf-8") != content
    ]
    return sorted(changed + sorted(present - expected.keys()))


def write(out_dir: Path = OUT_DIR) -> None:
    """Write a fresh render and remove files no contract produces any more."""
    out_dir.mkdir(parents=True, exist_ok=True)
    expected = render()
    for path in out_dir.glob("*"):
        if path.is_file() and path.name not in expected:
            path.unlink()
    for name, content in expected.items():
        (out_dir / name).write_text(content, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write or check ``docs/events/``.

    Returns:
        The exit status: 1 with ``--check`` when files are stale.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/events/ differs from the contracts"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        if stale:
            print("run: uv run python scripts/export_contracts.py", file=sys.stderr)
        return 1 if stale else 0
    write(args.out)
    print(f"wrote {len(render())} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
