"""代码集 Catalogue code sets and code validators: one test per rule, valid and invalid."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from yiwang_common.checkdigits import uscc_check
from yiwang_common.contracts.codes import (
    REGIONS,
    BasicCode,
    CaseKind,
    CaseType,
    CreditCode,
    CrossRegionScope,
    ExerciseLevel,
    HandlingForm,
    ItemNature,
    ItemType,
    LegalPersonTheme,
    MaterialSource,
    MaterialType,
    NaturalPersonTheme,
    RegionCode,
    ServiceObject,
    SpecialProcedure,
    VisitCount,
    basic_code_problem,
    handling_code_problem,
    implementation_code_problem,
    region_contains,
    region_level,
    region_problem,
)

ORG = "11530428015176456L"
BASIC = "000109003000"


class _Codes(BaseModel):
    item_type: ItemType
    level: ExerciseLevel
    region: RegionCode
    org: CreditCode
    basic: BasicCode


def _model(**overrides: str) -> _Codes:
    values = {"item_type": "01", "level": "4", "region": "530428", "org": ORG, "basic": BASIC} | overrides
    return _Codes.model_validate(values)


class TestCodeSets:
    def test_standard_codes_and_names(self) -> None:
        assert (ItemType("01"), ItemType("01").label) == (ItemType.LICENSING, "行政许可")
        assert ItemType("20").label == "公共服务"
        assert [m.value for m in ExerciseLevel] == ["1", "2", "3", "4", "5", "6", "7"]
        assert ServiceObject("2").label == "企业法人"
        assert HandlingForm("1").label == "窗口办理"
        assert CaseType("1").label == "即办件" and CaseType("2").label == "承诺件"
        assert {m.label for m in CrossRegionScope} == {"全国", "跨省", "跨市", "跨县"}
        assert VisitCount("0").label == "零次"

    def test_theme_lists_have_the_guideline_counts(self) -> None:
        # 31 natural-person themes plus the two sub-themes of 社会保障; 34 legal-person themes.
        assert len(NaturalPersonTheme) == 33
        assert len(LegalPersonTheme) == 34
        assert NaturalPersonTheme.from_label("死亡殡葬") is NaturalPersonTheme.DEATH
        assert LegalPersonTheme.from_label("法人注销") is LegalPersonTheme.DEREGISTRATION

    def test_from_label_takes_code_or_name_and_refuses_anything_else(self) -> None:
        assert ItemType.from_label("行政处罚") is ItemType.PENALTY
        assert ItemType.from_label(" 02 ") is ItemType.PENALTY
        with pytest.raises(ValueError, match="不是有效的事项类型"):
            ItemType.from_label("行政审批")

    def test_names_real_lists_write_find_the_standard_member(self) -> None:
        # The names of provincial lists beside the standard's, full width and spaces folded.
        assert ItemType.from_label("行政许可事项") is ItemType.LICENSING
        assert ItemType.from_label("公共服务事项") is ItemType.PUBLIC_SERVICE
        assert ExerciseLevel.from_label("设区的市级") is ExerciseLevel.MUNICIPAL
        assert ExerciseLevel.from_label("县（市、区）级") is ExerciseLevel.COUNTY
        assert ExerciseLevel.from_label("乡（镇）级") is ExerciseLevel.TOWNSHIP
        assert ServiceObject.from_label("个人") is ServiceObject.NATURAL_PERSON
        assert ServiceObject.from_label("事业单位法人") is ServiceObject.INSTITUTION
        assert HandlingForm.from_label("网上办理") is HandlingForm.ONLINE_COMPUTER
        assert HandlingForm.from_label("掌上办") is HandlingForm.ONLINE_MOBILE
        assert HandlingForm.from_label("邮 寄") is HandlingForm.POST
        assert CrossRegionScope.from_label("跨省通办") is CrossRegionScope.CROSS_PROVINCE
        assert SpecialProcedure.from_label("听证") is SpecialProcedure.SUSPENSION
        assert SpecialProcedure.from_label("延期") is SpecialProcedure.EXTENSION
        assert MaterialType.from_label("原件、复印件") is MaterialType.ORIGINAL_AND_COPY
        assert MaterialType.from_label("电子版") is MaterialType.ELECTRONIC
        assert MaterialSource.from_label("自备") is MaterialSource.APPLICANT
        # 六件 names reported in A.6 terms, exactly as CaseKind.case_type reports them.
        for kind in CaseKind:
            assert CaseType.from_label(kind.label) is kind.case_type
        # A name that could mean more than one member is no alias: still refused, with the choices.
        for code_set, text in (
            (ServiceObject, "法人"),
            (ExerciseLevel, "市县级"),
            (ItemType, "审批"),
            (MaterialType, "纸质"),
        ):
            with pytest.raises(ValueError, match="可选"):
                code_set.from_label(text)

    def test_nature_follows_the_type_code(self) -> None:
        assert ItemType.LICENSING.nature is ItemNature.POWER
        assert ItemType.PUBLIC_SERVICE.nature is ItemNature.PUBLIC_SERVICE

    def test_models_refuse_codes_outside_the_set(self) -> None:
        assert _model().item_type is ItemType.LICENSING
        with pytest.raises(ValidationError):
            _model(item_type="11")
        with pytest.raises(ValidationError):
            _model(level="8")


class TestRegionCodes:
    @pytest.mark.parametrize("code", ["530000", "530400", "530428", "110101", "469001"])
    def test_valid_structure(self, code: str) -> None:
        assert region_problem(code) is None
        assert _model(region=code).region == code

    @pytest.mark.parametrize(
        ("code", "reason"),
        [
            ("53042", "6 位"),
            ("5304281", "6 位"),
            ("53a428", "6 位"),
            ("990000", "省级代码 99"),
            ("530028", "市级部分"),
        ],
    )
    def test_invalid_structure(self, code: str, reason: str) -> None:
        problem = region_problem(code)
        assert problem is not None and reason in problem
        with pytest.raises(ValidationError):
            _model(region=code)

    def test_level_and_containment(self) -> None:
        assert region_level("530000") is ExerciseLevel.PROVINCIAL
        assert region_level("530400") is ExerciseLevel.MUNICIPAL
        assert region_level("530428") is ExerciseLevel.COUNTY
        assert region_contains("530000", "530428") and region_contains("530400", "530428")
        assert not region_contains("530100", "530428")

    def test_demo_region_table_is_structurally_valid(self) -> None:
        assert REGIONS["530428"] == "元江哈尼族彝族傣族自治县"
        assert all(region_problem(code) is None for code in REGIONS)


class TestCreditCode:
    def test_valid_check_character(self) -> None:
        assert _model(org=ORG.lower()).org == ORG

    def test_wrong_check_character_or_length(self) -> None:
        for bad in (ORG[:-1] + "K", ORG[:-1], ORG + "0", "11530428015176456I"):
            with pytest.raises(ValidationError, match="统一社会信用代码"):
                _model(org=bad)


class TestItemCodes:
    def test_basic_code_length_and_alphabet(self) -> None:
        assert basic_code_problem(BASIC) is None and basic_code_problem("0001090030") is None
        for bad in ("000109003", "0001090030001", "00010900300a", "0001-0900300"):
            assert basic_code_problem(bad) is not None
        with pytest.raises(ValidationError):
            _model(basic="123")

    def test_implementation_code_is_body_level_and_basic_code(self) -> None:
        code = f"{ORG}4{BASIC}"
        assert implementation_code_problem(code, basic_code=BASIC, org_code=ORG) is None
        other_org = "11530428015170000" + uscc_check("11530428015170000")
        assert "统一社会信用代码" in (
            implementation_code_problem(code, basic_code=BASIC, org_code=other_org) or ""
        )
        assert "行使层级" in (
            implementation_code_problem(f"{ORG}8{BASIC}", basic_code=BASIC, org_code=ORG) or ""
        )
        assert "基本编码" in (
            implementation_code_problem(f"{ORG}4000109003001", basic_code=BASIC, org_code=ORG) or ""
        )
        assert "36" in (implementation_code_problem(code + "0" * 6, basic_code=BASIC, org_code=ORG) or "")

    def test_handling_code_extends_the_implementation_code(self) -> None:
        code = f"{ORG}4{BASIC}"
        assert handling_code_problem(code + "01", implementation_code=code) is None
        assert handling_code_problem(code, implementation_code=code) is not None
        assert handling_code_problem("X" + code + "01", implementation_code=code) is not None
        assert handling_code_problem(code + "0" * 20, implementation_code=code) is not None
