"""Numbers and wording: 办件编号 composition and the one-time notice text."""

from __future__ import annotations

from datetime import date

import pytest

from yiwang_common.checkdigits import mod37_36_check
from yiwang_common.contracts.common import MissingMaterial
from yiwang_management.case import notices


class TestCaseNumber:
    def test_number_is_region_date_sequence_and_check(self) -> None:
        number = notices.case_number("530428", date(2026, 11, 23), 17)
        assert number[:20] == "53042820261123000017"
        assert number[20] == mod37_36_check("53042820261123000017")
        assert len(number) == 21

    @pytest.mark.parametrize("sequence", [0, 1_000_000])
    def test_sequence_outside_six_digits_is_refused(self, sequence: int) -> None:
        with pytest.raises(ValueError, match="six digits"):
            notices.case_number("530428", date(2026, 11, 23), sequence)


class TestNoticeText:
    def test_notice_lists_every_material_with_its_reason(self) -> None:
        text = notices.supplement_notice_text(
            applicant_name="张三",
            item_name="建筑工程施工许可证核发",
            case_no="530428202611230000017",
            materials=[
                MissingMaterial(code="M03", name="建设工程规划许可证"),
                MissingMaterial(code="M06", name="施工图设计文件审查合格书", reason="扫描件不清晰"),
            ],
            note=None,
        )
        assert text.startswith("张三：")
        assert "1. 建设工程规划许可证（未提交）" in text
        assert "2. 施工图设计文件审查合格书（扫描件不清晰）" in text
        assert "一次性告知" in text and "补充说明" not in text

    def test_notice_numbers_carry_year_and_case(self) -> None:
        day = date(2026, 11, 23)
        assert notices.acceptance_notice_no(day, "X1") == "受理通知〔2026〕X1"
        assert notices.supplement_notice_no(day, "X1") == "补正告知〔2026〕X1"
        assert notices.rejection_notice_no(day, "X1") == "不予受理〔2026〕X1"
