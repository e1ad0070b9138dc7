"""代码集 Code sets of the item catalogue (GB/T 39046 Annex A, guideline §二) and code validators.

Defined once here so that management's models, the events and every reader agree on the codes.
Each set is a ``StrEnum`` whose value is the standard code and whose ``label`` is its Chinese
name; ``from_label`` reads spreadsheets that carry names instead of codes. Where the standard
gives no code (themes, 通办范围, 服务形式, 行政管辖, 到办事现场次数) the codes are this project's
own and say so (ADR 0018): the Chinese names are the standard's, and the names are what travels
to the portal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Self, cast

from pydantic import AfterValidator

from yiwang_contracts.checkdigits import uscc_valid

#: Per code set, its members by code and by name (filled on first use).
_BY_TEXT: dict[type, dict[str, Any]] = {}
#: Per code set, the other names real lists give its members (name → code), see ``_ALIASES`` below.
_ALIAS_CODES: dict[type, Mapping[str, str]] = {}
_BLANKS = re.compile(r"\s+")


def _plain(text: str) -> str:
    """A name as compared: full width folded (NFKC: （镇） is (镇)), no spaces."""
    return _BLANKS.sub("", unicodedata.normalize("NFKC", text))


class CodeSet(StrEnum):
    """A standard code with its Chinese name (``label``)."""

    label: str

    def __new__(cls, code: str, label: str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def of(cls, code: str) -> Self:
        """The member with this code (``ItemType.of("01")``); ``ValueError`` for any other value."""
        member = cls._value2member_map_.get(code)
        if member is None:
            raise ValueError(f"“{code}”不是有效的{cls.__doc__ or cls.__name__}代码")
        return cls.from_label(code)

    @classmethod
    def from_label(cls, text: str) -> Self:
        """Find a member by its code or its Chinese name.

        Args:
            text: ``"01"`` or ``"行政许可"``.

        Returns:
            The member.

        Raises:
            ValueError: with a zh-CN message naming the allowed values.
        """
        wanted = text.strip()
        lookup = _BY_TEXT.get(cls)
        if lookup is None:
            # An import reads a code column on every row; the first member whose code or name
            # matches wins, as the scan over the members did.
            lookup = {}
            for member in cls:
                lookup.setdefault(member.value, member)
                lookup.setdefault(member.label, member)
                lookup.setdefault(_plain(member.label), member)
            for alias, code in _ALIAS_CODES.get(cls, {}).items():
                lookup.setdefault(_plain(alias), cls._value2member_map_[code])
            _BY_TEXT[cls] = lookup
        if (found := lookup.get(wanted)) is not None or (found := lookup.get(_plain(wanted))) is not None:
            return cast(Self, found)
        allowed = "、".join(f"{m.value} {m.label}" for m in cls)
        raise ValueError(f"“{wanted}”不是有效的{cls.__doc__ or cls.__name__}，可选：{allowed}")


class ItemType(CodeSet):
    """事项类型 (GB/T 39046 A.1, n2)"""

    LICENSING = "01", "行政许可"
    PENALTY = "02", "行政处罚"
    COERCION = "03", "行政强制"
    LEVY = "04", "行政征收"
    BENEFIT = "05", "行政给付"
    INSPECTION = "06", "行政检查"
    CONFIRMATION = "07", "行政确认"
    REWARD = "08", "行政奖励"
    ADJUDICATION = "09", "行政裁决"
    OTHER_POWER = "10", "其他行政权力"
    PUBLIC_SERVICE = "20", "公共服务"

    @property
    def nature(self) -> ItemNature:
        """事项性质: codes 2x are public services, every other type is an administrative power."""
        return ItemNature.PUBLIC_SERVICE if self.value.startswith("2") else ItemNature.POWER


class ItemNature(CodeSet):
    """事项性质 (分类维度 1; the standard's 00 / 20 groups)"""

    POWER = "00", "行政权力事项"
    PUBLIC_SERVICE = "20", "公共服务事项"


class ExerciseLevel(CodeSet):
    """行使层级 (GB/T 39046 A.2, n1; 分类维度 5 服务层级)"""

    NATIONAL = "1", "国家级"
    PROVINCIAL = "2", "省级"
    MUNICIPAL = "3", "市级"
    COUNTY = "4", "县级"
    TOWNSHIP = "5", "乡级"
    VILLAGE = "6", "村级"
    TIERED = "7", "分级管理"


class BodyNature(CodeSet):
    """实施主体性质 (GB/T 39046 A.3)"""

    STATUTORY = "1", "法定机关"
    AUTHORISED = "2", "授权组织"
    COMMISSIONED = "3", "受委托组织"
    OTHER = "9", "其他"


class ServiceObject(CodeSet):
    """服务对象 (GB/T 39046 A.4; 分类维度 2)"""

    NATURAL_PERSON = "1", "自然人"
    ENTERPRISE = "2", "企业法人"
    INSTITUTION = "3", "事业法人"
    SOCIAL_ORGANISATION = "4", "社会组织法人"
    GOVERNMENT = "5", "行政机关"
    OTHER_ORGANISATION = "6", "其他组织"

    @property
    def is_natural_person(self) -> bool:
        """Whether the natural-person themes apply (every other object is a 法人 or organisation)."""
        return self is ServiceObject.NATURAL_PERSON


class HandlingForm(CodeSet):
    """办理形式 (GB/T 39046 A.5)"""

    WINDOW = "1", "窗口办理"
    ONLINE_COMPUTER = "2", "电脑端网上办理"
    ONLINE_MOBILE = "3", "移动端网上申请"
    POST = "4", "快递申请"
    OTHER = "9", "其他"

    @property
    def online(self) -> bool:
        """Whether this form is handled online (computer or mobile)."""
        return self in (HandlingForm.ONLINE_COMPUTER, HandlingForm.ONLINE_MOBILE)


class CaseType(CodeSet):
    """办件类型 (GB/T 39046 A.6)"""

    IMMEDIATE = "1", "即办件"
    PROMISED = "2", "承诺件"
    OTHER = "9", "其他"


class CaseKind(CodeSet):
    """办件类别 (六件管理: seed rules §1.4; codes 1 and 2 are GB/T 39046 A.6's, the rest this project's)"""

    IMMEDIATE = "1", "即办件"
    PROMISED = "2", "承诺件"
    JOINT = "3", "联办件"
    ESCALATED = "4", "上报件"
    SUPPLEMENTED = "5", "补办件"
    RETURNED = "6", "退回件"

    @property
    def case_type(self) -> CaseType:
        """The GB/T 39046 A.6 办件类型 it reports as: 即办件 1, 退回件 9 其他, every other 2 承诺件."""
        if self is CaseKind.IMMEDIATE:
            return CaseType.IMMEDIATE
        return CaseType.OTHER if self is CaseKind.RETURNED else CaseType.PROMISED


class SpecialProcedure(CodeSet):
    """特别程序种类 (GB/T 39046 A.7): what may stop or extend the statutory clock"""

    EXTENSION = "1", "延长审批"
    SUSPENSION = "2", "除延长审批之外的情况"


class CrossRegionScope(CodeSet):
    """通办范围 (project codes; names from GB/T 39046)"""

    NATIONWIDE = "1", "全国"
    CROSS_PROVINCE = "2", "跨省"
    CROSS_CITY = "3", "跨市"
    CROSS_COUNTY = "4", "跨县"


class ServiceForm(CodeSet):
    """服务形式 (分类维度 6; project codes)"""

    ONLINE = "1", "线上办理"
    OFFLINE = "2", "线下办理"
    INTEGRATED = "3", "线上线下一体化办理"


class Jurisdiction(CodeSet):
    """行政管辖 (分类维度 7; project codes)"""

    FIXED_PLACE = "1", "定点办理"
    CROSS_REGION = "2", "跨地区通办"


class VisitCount(CodeSet):
    """到办事现场次数 (national task tables; 最多跑一次 reads 0 or 1)"""

    ZERO = "0", "零次"
    ONE = "1", "一次"
    TWO = "2", "二次"
    MORE = "3", "三次及以上"


class MaterialType(CodeSet):
    """材料类型 (national task_general_material; project codes)"""

    ORIGINAL = "1", "原件"
    COPY = "2", "复印件"
    ORIGINAL_AND_COPY = "3", "原件和复印件"
    ELECTRONIC = "4", "电子材料"


class MaterialSource(CodeSet):
    """来源渠道 (national task_general_material; project codes)"""

    APPLICANT = "1", "申请人自备"
    GOVERNMENT = "2", "政府部门核发"
    INTERMEDIARY = "3", "中介机构或法定机构产生"
    OTHER = "9", "其他"


class NaturalPersonTheme(CodeSet):
    """面向自然人服务主题 (guideline §二, 31 themes by life cycle; project codes)"""

    BIRTH_ADOPTION = "101", "生育收养"
    HOUSEHOLD = "102", "户籍办理"
    ETHNIC_RELIGION = "103", "民族宗教"
    EDUCATION = "104", "教育科研"
    MILITARY = "105", "入伍服役"
    EMPLOYMENT = "106", "就业创业"
    ESTABLISH_CHANGE = "107", "设立变更"
    PERMITS = "108", "准营准办"
    MORTGAGE = "109", "抵押质押"
    QUALIFICATION = "110", "职业资格"
    FEES = "111", "行政缴费"
    MARRIAGE = "112", "婚姻登记"
    PREFERENTIAL = "113", "优待抚恤"
    PLANNING = "114", "规划建设"
    HOUSING = "115", "住房保障"
    SOCIAL_SECURITY = "116", "社会保障"
    SOCIAL_INSURANCE = "117", "社会保险"
    SOCIAL_ASSISTANCE = "118", "社会救助"
    CERTIFICATES = "119", "证件办理"
    TRAVEL = "120", "交通出行"
    TOURISM = "121", "旅游观光"
    EXIT_ENTRY = "122", "出境入境"
    CONSUMER = "123", "消费维权"
    PUBLIC_SAFETY = "124", "公共安全"
    JUSTICE = "125", "司法公证"
    IP = "126", "知识产权"
    ENVIRONMENT = "127", "环保绿化"
    CULTURE_SPORT = "128", "文化体育"
    UTILITIES = "129", "公用事业"
    HEALTH = "130", "医疗卫生"
    RETIREMENT = "131", "离职退休"
    DEATH = "132", "死亡殡葬"
    OTHER = "199", "其他"


class LegalPersonTheme(CodeSet):
    """面向法人服务主题 (guideline §二, 34 themes by legal-person life cycle; project codes)"""

    ESTABLISH_CHANGE = "201", "设立变更"
    PERMITS = "202", "准营准办"
    QUALIFICATION = "203", "资质认证"
    ANNUAL_INSPECTION = "204", "年检年审"
    TAX_FINANCE = "205", "税收财务"
    HUMAN_RESOURCES = "206", "人力资源"
    SOCIAL_SECURITY = "207", "社会保障"
    INVESTMENT = "208", "投资审批"
    FINANCING = "209", "融资信贷"
    MORTGAGE = "210", "抵押质押"
    TRADE = "211", "商务贸易"
    TENDER = "212", "招标拍卖"
    CUSTOMS = "213", "海关口岸"
    FOREIGN = "214", "涉外服务"
    AGRICULTURE = "215", "农林牧渔"
    LAND_PLANNING = "216", "国土和规划建设"
    TRANSPORT = "217", "交通运输"
    ENVIRONMENT = "218", "环保绿化"
    CLIMATE = "219", "应对气候变化"
    WATER_WEATHER = "220", "水务气象"
    HEALTH = "221", "医疗卫生"
    SCIENCE = "222", "科技创新"
    CULTURE_EDUCATION = "223", "文体教育"
    IP = "224", "知识产权"
    ETHNIC_RELIGION = "225", "民族宗教"
    QUALITY = "226", "质量技术"
    QUARANTINE = "227", "检验检疫"
    WORK_SAFETY = "228", "安全生产"
    FIRE = "229", "公安消防"
    JUSTICE = "230", "司法公证"
    UTILITIES = "231", "公用事业"
    DEREGISTRATION = "232", "法人注销"
    ARCHIVES = "233", "档案文物"
    OTHER = "299", "其他"


# --- GB/T 2260 行政区划代码 -----------------------------------------------------------------


#: The 34 provincial-level prefixes of GB/T 2260 (71 台湾, 81 香港, 82 澳门 included).
def _suffixed(code_set: type[CodeSet], *suffixes: str) -> dict[str, str]:
    return {m.label + suffix: m.value for m in code_set for suffix in suffixes}


#: Names real lists use beside the standard's (the standard's name and code always work too).
#: Only names that mean one member beyond doubt: a list's 行使层级 "设区的市级" is 市级, its
#: 办理形式 "网上办理" the online form, its 办件类型 "联办件" a 承诺件 (as ``CaseKind.case_type``).
_ALIASES: dict[type[CodeSet], dict[str, str]] = {
    ItemType: _suffixed(ItemType, "事项", "类") | {"其他权力": "10"},
    ExerciseLevel: {
        "国家": "1",
        "中央级": "1",
        "省": "2",
        "省本级": "2",
        "市": "3",
        "设区的市级": "3",
        "地市级": "3",
        "市州级": "3",
        "市本级": "3",
        "县": "4",
        "县区级": "4",
        "区县级": "4",
        "县(市、区)级": "4",
        "县(区)级": "4",
        "乡镇级": "5",
        "乡(镇)级": "5",
        "乡镇(街道)级": "5",
        "街道级": "5",
        "村(社区)级": "6",
        "社区级": "6",
    },
    ServiceObject: {
        "个人": "1",
        "公民": "1",
        "企业": "2",
        "事业单位": "3",
        "事业单位法人": "3",
        "社会组织": "4",
        "机关": "5",
        "政府机关": "5",
        "机关法人": "5",
        "非法人组织": "6",
        "非法人企业": "6",
        "个体工商户": "6",
    },
    HandlingForm: {
        "窗口": "1",
        "窗口受理": "1",
        "现场办理": "1",
        "线下办理": "1",
        "网上办理": "2",
        "网上申请": "2",
        "网办": "2",
        "在线办理": "2",
        "线上办理": "2",
        "全程网办": "2",
        "移动端办理": "3",
        "移动端网上办理": "3",
        "掌上办": "3",
        "掌上办理": "3",
        "手机办理": "3",
        "快递": "4",
        "邮寄": "4",
        "邮寄申请": "4",
        "寄递": "4",
    },
    CaseType: {kind.label: kind.case_type.value for kind in CaseKind},
    CrossRegionScope: {
        "全国通办": "1",
        "跨省通办": "2",
        "跨市通办": "3",
        "全省通办": "3",
        "省内通办": "3",
        "跨县通办": "4",
        "全市通办": "4",
        "市内通办": "4",
    },
    SpecialProcedure: {
        "延期": "1",
        "延长": "1",
        "延长办理": "1",
        **dict.fromkeys(
            (
                "听证",
                "招标",
                "拍卖",
                "检验",
                "检测",
                "检验检测",
                "检疫",
                "鉴定",
                "专家评审",
                "专家论证",
                "技术审查",
                "现场勘验",
                "现场勘查",
                "现场核查",
                "公示",
                "公告",
                "征求意见",
            ),
            "2",
        ),
    },
    MaterialType: {
        "纸质原件": "1",
        "纸质复印件": "2",
        "原件、复印件": "3",
        "原件及复印件": "3",
        "原件与复印件": "3",
        "原件+复印件": "3",
        "电子": "4",
        "电子版": "4",
        "电子文档": "4",
        "电子证照": "4",
    },
    MaterialSource: {
        "自备": "1",
        "申请人": "1",
        "申请人提供": "1",
        "政府部门": "2",
        "政府部门出具": "2",
        "部门核发": "2",
        "中介机构": "3",
        "中介机构出具": "3",
        "法定机构": "3",
    },
}
_ALIAS_CODES.update(_ALIASES)


PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

#: The regions the demonstration catalogue uses (a slice of GB/T 2260, data not structure).
REGIONS: Mapping[str, str] = {
    "530000": "云南省",
    "530100": "昆明市",
    "530400": "玉溪市",
    "530402": "红塔区",
    "530428": "元江哈尼族彝族傣族自治县",
}

_REGION_RE = re.compile(r"^\d{6}$")


def region_problem(code: str) -> str | None:
    """Say what is wrong with a GB/T 2260 code, or None when its structure is right.

    Structure: two digits of a province, two of a city (00 at province level), two of a county
    (00 at province and city level); a county part needs a city part (directly administered
    county-level cities use city part 90, as 469001 does).
    """
    if not _REGION_RE.match(code):
        return "行政区划代码应为 6 位数字"
    if code[:2] not in PROVINCE_PREFIXES:
        return f"行政区划代码的省级代码 {code[:2]} 不存在"
    if code[2:4] == "00" and code[4:] != "00":
        return "行政区划代码的县级部分须有市级部分 (XX00ZZ 无效)"
    return None


def region_level(code: str) -> ExerciseLevel:
    """The level a structurally valid region code names: 省级 XX0000, 市级 XXYY00, 县级 XXYYZZ."""
    if code[2:] == "0000":
        return ExerciseLevel.PROVINCIAL
    if code[4:] == "00":
        return ExerciseLevel.MUNICIPAL
    return ExerciseLevel.COUNTY


def region_contains(outer: str, inner: str) -> bool:
    """Whether region ``inner`` lies in (or is) region ``outer``."""
    level = region_level(outer)
    prefix = {ExerciseLevel.PROVINCIAL: 2, ExerciseLevel.MUNICIPAL: 4}.get(level, 6)
    return inner[:prefix] == outer[:prefix]


def _region(value: str) -> str:
    if problem := region_problem(value):
        raise ValueError(problem)
    return value


#: 行政区划代码 A GB/T 2260 region code, checked for structure and province prefix.
RegionCode = Annotated[str, AfterValidator(_region)]


# --- 统一社会信用代码 (GB 32100) ------------------------------------------------------------


def _uscc(value: str) -> str:
    value = value.strip().upper()
    if not uscc_valid(value):
        raise ValueError("统一社会信用代码无效 (18 位，校验码按 GB 32100 计算)")
    return value


#: 统一社会信用代码 An 18-character code whose check character is right (GB 32100-2015).
CreditCode = Annotated[str, AfterValidator(_uscc)]


# --- 事项编码 ---------------------------------------------------------------------------------

# GB/T 39554.1 (the binding structure) was not found; these rules are what GB/T 39046 and the
# national tables say: lengths, alphabet, and the observed 实施编码 = 统一社会信用代码 + 行使层级 + 基本编码.
_BASIC_RE = re.compile(r"^[0-9A-Z]{10,12}$")
_HANDLING_RE = re.compile(r"^[0-9A-Z]{1,50}$")


def basic_code_problem(code: str) -> str | None:
    """基本编码: 10 (GB/T 39046 an..10) to 12 (national tables) characters of 0-9 and A-Z."""
    if not _BASIC_RE.match(code):
        return "基本编码应为 10 至 12 位数字或大写字母"
    return None


def implementation_code_problem(code: str, *, basic_code: str, org_code: str) -> str | None:
    """实施编码: the implementing body's 统一社会信用代码, a 行使层级 digit, then the 基本编码.

    Args:
        code: the implementation code.
        basic_code: the 目录清单 entry's basic code.
        org_code: the implementing body's 统一社会信用代码.

    Returns:
        A zh-CN description of the first problem, or None.
    """
    if len(code) > 36:
        return "实施编码最长 36 位"
    if code[:18] != org_code:
        return "实施编码应以实施主体的统一社会信用代码开头"
    level = code[18:19]
    if level not in {m.value for m in ExerciseLevel}:
        return "实施编码第 19 位应为行使层级代码 (1-7)"
    if code[19:] != basic_code:
        return "实施编码第 20 位起应为事项的基本编码"
    return None


def handling_code_problem(code: str, *, implementation_code: str) -> str | None:
    """业务办理项编码: the implementation code followed by a serial, at most 50 characters."""
    if not _HANDLING_RE.match(code):
        return "业务办理项编码应为至多 50 位数字或大写字母"
    if not code.startswith(implementation_code) or len(code) == len(implementation_code):
        return "业务办理项编码应为实施编码后加办理项序号"
    return None


def _basic(value: str) -> str:
    if problem := basic_code_problem(value):
        raise ValueError(problem)
    return value


#: 基本编码 A catalogue entry's basic code.
BasicCode = Annotated[str, AfterValidator(_basic)]
