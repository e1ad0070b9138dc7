"""Wording and numbering of the notices a window issues (受理 / 补正告知 / 不予受理)."""

from __future__ import annotations

from datetime import date

from yiwang_common.checkdigits import mod37_36_check
from yiwang_common.contracts.common import MissingMaterial


def case_number(region_code: str, day: date, sequence: int) -> str:
    """Compose a 办件编号: region (6) + yyyymmdd + daily sequence (6) + MOD 37,36 check."""
    if not 1 <= sequence <= 999_999:
        raise ValueError("the daily sequence of 办件编号 has six digits")
    payload = f"{region_code}{day:%Y%m%d}{sequence:06d}"
    return payload + mod37_36_check(payload)


def acceptance_notice_no(day: date, case_no: str) -> str:
    """受理通知书编号."""
    return f"受理通知〔{day.year}〕{case_no}"


def supplement_notice_no(day: date, case_no: str) -> str:
    """补正告知书编号."""
    return f"补正告知〔{day.year}〕{case_no}"


def rejection_notice_no(day: date, case_no: str) -> str:
    """不予受理通知书编号."""
    return f"不予受理〔{day.year}〕{case_no}"


def supplement_notice_text(
    *, applicant_name: str, item_name: str, case_no: str, materials: list[MissingMaterial], note: str | None
) -> str:
    """Write the 一次性告知 text: every material to supplement, with its reason, in one notice."""
    lines = [
        f"{applicant_name}：",
        f"您申请的“{item_name}”（办件编号：{case_no}）申请材料不齐全或者不符合法定形式。"
        "根据《中华人民共和国行政许可法》第三十二条第一款第（四）项，现一次性告知您需要补正的全部内容：",
    ]
    lines += [f"{n}. {m.name}（{m.reason}）" for n, m in enumerate(materials, start=1)]
    if note:
        lines.append(f"补充说明：{note}")
    lines.append("请通过政务服务网补正上述材料。材料补齐后，办理时限自补齐之日起计算。")
    return "\n".join(lines)
