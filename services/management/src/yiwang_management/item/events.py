"""Events of the item catalogue: ``ItemPublished`` (this domain consumes nothing)."""

from __future__ import annotations

from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.events import EventEnvelope, make_event
from yiwang_management.item.models import Item


def item_published_event(item: Item, *, source: str) -> EventEnvelope:
    """Build the ``ItemPublished`` envelope of an item's current version."""
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
    )
    return make_event(data, source=source, subject=item.item_code, correlation_id=item.item_code)
