"""Rules of e-licence issuing: numbering, identifier, validity and 照面信息."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from yiwang_business.clock import local_date
from yiwang_business.licence.errors import LicenceNotIssuable
from yiwang_business.licence.identifier import licence_identifier
from yiwang_business.licence.models import ELicence
from yiwang_business.workflow.schemas import WorkflowSnapshot
from yiwang_common.contracts.common import ELicence as ELicenceValue, Organisation
from yiwang_common.db import utcnow

LICENCE_VERSION = "001"


class LicensedCase(Protocol):
    """What a licence takes from its case (task's ``BusinessCase`` is one).

    A protocol rather than the model keeps licence below task: task issues, and licence never
    imports it back.
    """

    @property
    def case_no(self) -> str: ...
    @property
    def item_code(self) -> str: ...
    @property
    def org_code(self) -> str: ...
    @property
    def org_name(self) -> str: ...
    @property
    def applicant(self) -> dict[str, Any]: ...
    @property
    def applicant_name(self) -> str: ...
    @property
    def form(self) -> dict[str, Any]: ...


def face_data(form: dict[str, Any], fields: dict[str, list[str]]) -> dict[str, str]:
    """Copy the 照面 fields from the application form: for each label, the label itself or its first present alias."""
    data: dict[str, str] = {}
    for label, keys in fields.items():
        for key in (label, *keys):
            value = form.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
                data[label] = str(value).strip()
                break
    return data


def to_value(licence: ELicence) -> ELicenceValue:
    """Render a stored licence as the contract's value object."""
    return ELicenceValue(
        identifier=licence.identifier,
        type_code=licence.type_code,
        type_name=licence.type_name,
        licence_no=licence.licence_no,
        version=licence.version,
        holder_name=licence.holder_name,
        holder_code=licence.holder_code,
        holder_code_type=licence.holder_code_type,
        issuer=Organisation(name=licence.issuer_name, code=licence.issuer_code),
        issued_on=licence.issued_on,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        jurisdiction_code=licence.jurisdiction_code,
        trust_level=licence.trust_level,
        case_no=licence.case_no,
        item_code=licence.item_code,
        data=licence.data,
    )


def issues_licence(workflow: WorkflowSnapshot) -> bool:
    """Tell whether the item's cases get an e-licence on approval."""
    return workflow.licence_type_code is not None and workflow.licence_type_name is not None


def licence_counter(region_code: str, now: datetime) -> tuple[str, str, str]:
    """The counter of the platform's 证照编号 of a day."""
    return ("licence", region_code, f"{local_date(now):%Y%m%d}")


def build_licence(
    case: LicensedCase, *, workflow: WorkflowSnapshot, now: datetime, region_code: str, serial: int
) -> ELicence:
    """Write the licence numbered ``serial`` (not yet stored); the workflow must issue one."""
    assert workflow.licence_type_code is not None and workflow.licence_type_name is not None
    issued_on = local_date(now)
    # 证照编号: region + date + daily sequence; digits only, so it is also a valid 流水号.
    licence_no = f"{region_code}{issued_on:%Y%m%d}{serial:06d}"
    try:
        identifier = licence_identifier(
            workflow.licence_type_code, case.org_code, licence_no, LICENCE_VERSION
        )
    except ValueError as exc:
        raise LicenceNotIssuable(f"实施主体代码 {case.org_code} 不是 18 位统一社会信用代码") from exc
    days = workflow.licence_validity_days
    return ELicence(
        identifier=identifier,
        case_no=case.case_no,
        type_code=workflow.licence_type_code,
        type_name=workflow.licence_type_name,
        licence_no=licence_no,
        version=LICENCE_VERSION,
        holder_name=case.applicant_name,
        holder_code=str(case.applicant.get("id_number", "")),
        holder_code_type=str(case.applicant.get("id_type", "")),
        issuer_name=case.org_name,
        issuer_code=case.org_code,
        issued_on=issued_on,
        valid_from=issued_on,
        valid_until=issued_on + timedelta(days=days) if days else None,
        jurisdiction_code=region_code,
        trust_level="A",
        item_code=case.item_code,
        data=face_data(case.form, workflow.licence_fields),
        created_at=utcnow(),
    )
