"""Events of the item catalogue: ``ItemPublished`` and ``ItemWithdrawn`` (this domain consumes nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.contracts.management import ItemPublished, ItemWithdrawn
from yiwang_common.events import EventEnvelope, make_event
from yiwang_management.item.models import Item


def item_published_event(item: Item, *, source: str, extras: dict[str, Any] | None = None) -> EventEnvelope:
    """Build the ``ItemPublished`` envelope of an item's current version.

    Args:
        item: the item row in force.
        source: CloudEvents source.
        extras: the additive fields a catalogue version carries (classification, themes …).
    """
    data = ItemPublished(
        item_code=item.item_code,
        basic_code=item.basic_code,
        name=item.name,
        item_type=item.item_type,
        version=item.version,
        implementing_org=Organisation(name=item.org_name, code=item.org_code),
        region_code=item.region_code,
        service_object=item.service_object,
        scope=item.scope,
        legal_basis=item.legal_basis,
        conditions=item.conditions,
        materials=[MaterialRequirement.model_validate(m) for m in item.materials],
        statutory_limit_days=item.statutory_limit_days,
        promised_limit_days=item.promised_limit_days,
        case_type=item.case_type,
        fee=item.fee,
        form_schema=item.form_schema,
        guide=item.guide,
        published_at=item.published_at,
        **(extras or {}),
    )
    return make_event(data, source=source, subject=item.item_code, correlation_id=item.item_code)


def item_withdrawn_event(item: Item, *, reason: str, withdrawn_at: datetime, source: str) -> EventEnvelope:
    """Build the ``ItemWithdrawn`` envelope of the version that was in force."""
    data = ItemWithdrawn(
        item_code=item.item_code,
        version=item.version,
        name=item.name,
        reason=reason,
        withdrawn_at=withdrawn_at,
    )
    return make_event(data, source=source, subject=item.item_code, correlation_id=item.item_code)
