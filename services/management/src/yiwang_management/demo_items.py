"""Demonstration catalogue of 元江县 (530428): three real items of 元江县住房和城乡建设局.

The construction permit follows the county's published guide (BSZN-0510001—2016, seed text) word
for word where the seed has it; whatever the seed lacks is completed from the national rule and
marked as such in ``guide["来源说明"]``.
"""

from __future__ import annotations

from typing import Any

from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_management.item.schemas import ItemCreate

YUANJIANG_REGION = "530428"
YUANJIANG_HOUSING = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
CONSTRUCTION_PERMIT_ITEM_CODE = "11530428015176456L2000109003000"

_GUIDE_COMMON: dict[str, Any] = {
    "办理地点": "元江县政务服务中心住房和城乡建设局窗口",
    "办理时间": "工作日 上午 9:00-12:00，下午 14:30-17:30（法定节假日除外）",
    "咨询电话": "0877-6011234（示例号码，以窗口公布为准）",
    "监督投诉电话": "12345",
    "办理形式": ["网上办理", "窗口办理"],
    "办理流程": ["申请", "受理", "审查", "决定", "办结"],
}


def _material(
    code: str, name: str, *, notes: str, source: str = "申请人自备", required: bool = True
) -> MaterialRequirement:
    return MaterialRequirement(code=code, name=name, required=required, source=source, notes=notes)


def _construction_permit() -> ItemCreate:
    basis_18 = "《建筑工程施工许可管理办法》(中华人民共和国住房和城乡建设部令第18号)"
    return ItemCreate(
        item_code=CONSTRUCTION_PERMIT_ITEM_CODE,
        basic_code="000109003000",
        name="建筑工程施工许可证核发",
        item_type="行政许可",
        version=1,
        implementing_org=YUANJIANG_HOUSING,
        region_code=YUANJIANG_REGION,
        service_object=["企业法人", "事业单位法人", "其他组织", "自然人"],
        scope="元江县辖区内建设的(房屋建筑与市政工程)。",
        legal_basis=[
            "《中华人民共和国建筑法》(主席令第46号) 第七条:建筑工程开工前,建设单位应当按照国家有关规定"
            "向工程所在地县级以上人民政府建设行政主管部门申请领取施工许可证。",
            f"{basis_18} 第二条:在中华人民共和国境内从事各类房屋建筑及其附属设施的建造、装修装饰和与其配套的"
            "线路、管道、设备的安装,以及城镇市政基础设施工程的施工,建设单位在开工前应当依照本办法的规定,"
            "向工程所在地的县级以上人民政府建设行政主管部门(以下简称发证机关)当场申请领取施工许可证。",
            f"{basis_18} 第三条:本办法规定应当申请领取施工许可证的建筑工程未取得施工许可证的,一律不得开工。"
            "任何单位和个人不得将应当申请领取施工许可证的工程项目分解为若干限额以下的工程项目,规避申请领取施工许可证。",
            "地方性法规;《云南省建筑市场管理条例》第二十条、《云南省住房和城乡建设厅关于进一步加强建筑工程施工许可"
            "管理工作的通知》云建建[2014]509号、《云南省人民政府关于取消和下放一批行政审批项目的决定》(云政发[2013]44号)"
            "文件要求,按照《云南省住房和城乡建设厅关于进一步明确建筑工程施工许可证核发的有关问题的通知》云建建[2017]367号"
            "和《玉溪市住房和城乡建设局关于进一步明确建筑工程施工许可证核发有关问题的通知》玉市建通[2017]126号文件精神。",
        ],
        conditions=[
            "(1)属于元江县辖区范围内的建筑工程项目;",
            "(2)已经办理该建筑工程用地批准手续;",
            "(3)在城市规划区的建筑工程,已经取得建设工程规划许可证;",
            "(4)施工场地已经基本具备施工条件,需要征收房屋的,其进度符合施工要求;",
            "(5)经过招投标确定了建设、施工、勘察、设计、监理的项目工程;",
            "(6)有满足施工需要的技术资料,施工图设计文件已按规定审查合格;",
            "(7)有保证工程质量和安全的具体措施。施工企业编制的施工组织设计中有根据建筑工程特点制定的相应质量、安全技术措施。",
        ],
        materials=[
            _material(
                "M01",
                "建筑工程施工许可证申请表",
                notes="向发证机关领取或在线下载，如实填写并加盖建设单位公章",
            ),
            _material("M02", "建筑工程用地批准手续", source="自然资源主管部门核发", notes="对应审批条件(2)"),
            _material(
                "M03",
                "建设工程规划许可证",
                source="城乡规划主管部门核发",
                notes="对应审批条件(3)；在城市、镇规划区的建筑工程提供",
            ),
            _material(
                "M04",
                "施工场地已经基本具备施工条件的证明（需要征收房屋的，附征收进度符合施工要求的说明）",
                notes="对应审批条件(4)",
            ),
            _material(
                "M05", "中标通知书及施工合同", notes="对应审批条件(5)；依法不需招标的提供直接发包的相关文件"
            ),
            _material(
                "M06", "施工图设计文件审查合格书", source="施工图审查机构出具", notes="对应审批条件(6)"
            ),
            _material(
                "M07",
                "保证工程质量和安全的具体措施（施工组织设计）",
                source="施工企业编制",
                notes="对应审批条件(7)；含根据工程特点制定的质量、安全技术措施",
            ),
            _material("M08", "建设资金已经落实的证明", notes="住建部令第18号第四条规定的条件"),
        ],
        statutory_limit_days=7,
        promised_limit_days=5,
        case_type="2",
        fee="不收费",
        form_schema=_construction_form(),
        guide=_GUIDE_COMMON
        | {
            "指南编号": "BSZN-0510001—2016",
            "发布": "云南省玉溪市元江县住房和城乡建设局 2017年11月30日发布",
            "结果名称": "建筑工程施工许可证",
            "法定时限依据": "住建部令第18号第五条：自收到申请之日起七日内，对符合条件的申请颁发施工许可证",
            "来源说明": (
                "受理范围、办理依据、实施机关、审批条件(1)-(7)照录元江县《建筑工程施工许可证核发办事指南》"
                "（BSZN-0510001—2016）。该指南的种子摘录在审批条件(7)处中断，条件(7)末尾“措施。”二字以及"
                "申请材料、办结时限均依《建筑工程施工许可管理办法》（住建部令第18号）第四条、第五条补全；"
                "承诺时限 5 个工作日为演示取值。"
            ),
        },
    )


def _construction_form() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1, "maxLength": 200}
    day = {"type": "string", "format": "date"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "建筑工程施工许可证申请表",
        "type": "object",
        "required": [
            "工程名称",
            "建设地址",
            "建设规模",
            "合同价格",
            "建设单位",
            "施工单位",
            "计划开工日期",
            "计划竣工日期",
        ],
        "properties": {
            "工程名称": text | {"title": "工程名称"},
            "建设地址": text | {"title": "建设地址"},
            "建设规模": {"type": "number", "exclusiveMinimum": 0, "title": "建设规模（平方米）"},
            "合同价格": {"type": "number", "exclusiveMinimum": 0, "title": "合同价格（万元）"},
            "建设单位": text | {"title": "建设单位"},
            "施工单位": text | {"title": "施工单位"},
            "监理单位": text | {"title": "监理单位"},
            "计划开工日期": day | {"title": "计划开工日期"},
            "计划竣工日期": day | {"title": "计划竣工日期"},
        },
    }


_CODE_NOTE = "基本编码为演示取值，尚未与云南省政务服务事项基本目录核对；实施编码 = 实施主体代码 + 层级码 2 + 基本编码。"


def _planning_permit() -> ItemCreate:
    return ItemCreate(
        item_code=f"{YUANJIANG_HOUSING.code}2000109002000",
        basic_code="000109002000",
        name="建设工程规划许可证核发",
        item_type="行政许可",
        version=1,
        implementing_org=YUANJIANG_HOUSING,
        region_code=YUANJIANG_REGION,
        service_object=["企业法人", "事业单位法人", "其他组织", "自然人"],
        scope="元江县城市、镇规划区内进行建筑物、构筑物、道路、管线和其他工程建设的。",
        legal_basis=[
            "《中华人民共和国城乡规划法》第四十条:在城市、镇规划区内进行建筑物、构筑物、道路、管线和其他工程建设的,"
            "建设单位或者个人应当向城市、县人民政府城乡规划主管部门或者省、自治区、直辖市人民政府确定的镇人民政府"
            "申请办理建设工程规划许可证。申请办理建设工程规划许可证,应当提交使用土地的有关证明文件、建设工程设计方案等材料。"
            "需要建设单位编制修建性详细规划的建设项目,还应当提交修建性详细规划。",
            "《中华人民共和国行政许可法》第四十二条:除可以当场作出行政许可决定的外,行政机关应当自受理行政许可申请之日起"
            "二十日内作出行政许可决定。",
        ],
        conditions=[
            "(1)建设项目位于元江县城市、镇规划区内;",
            "(2)已取得使用土地的有关证明文件;",
            "(3)建设工程设计方案符合控制性详细规划和规划条件。",
        ],
        materials=[
            _material(
                "M01", "建设工程规划许可证申请表", notes="如实填写并加盖建设单位公章（个人建设的由本人签字）"
            ),
            _material(
                "M02", "使用土地的有关证明文件", source="自然资源主管部门核发", notes="城乡规划法第四十条"
            ),
            _material(
                "M03",
                "建设用地规划许可证",
                source="城乡规划主管部门核发",
                notes="以出让或划拨方式取得国有土地使用权的提供",
            ),
            _material("M04", "建设工程设计方案", source="设计单位编制", notes="城乡规划法第四十条"),
            _material(
                "M05",
                "修建性详细规划",
                required=False,
                source="设计单位编制",
                notes="需要建设单位编制修建性详细规划的建设项目提供",
            ),
        ],
        statutory_limit_days=20,
        promised_limit_days=10,
        case_type="2",
        fee="不收费",
        form_schema=_simple_form(
            "建设工程规划许可证申请表",
            {"项目名称": "string", "建设地址": "string", "建设单位": "string", "总建筑面积": "number"},
        ),
        guide=_GUIDE_COMMON
        | {
            "结果名称": "建设工程规划许可证",
            "编码说明": _CODE_NOTE,
            "来源说明": (
                "依《中华人民共和国城乡规划法》第四十条、《中华人民共和国行政许可法》第四十二条编写。种子材料中"
                "盐亭县规建局工程报建流程显示本事项位于施工图审查备案之后、施工许可之前，由政务中心窗口受理；"
                "该摘录在本事项的材料清单之前中断，故材料依第四十条列明。承诺时限为演示取值。2019 年机构改革后"
                "城乡规划职责已划入自然资源主管部门，现行实施机关以元江县实施清单为准。"
            ),
        },
    )


def _presale_permit() -> ItemCreate:
    measures = "《城市商品房预售管理办法》(建设部令第131号修正)"
    return ItemCreate(
        item_code=f"{YUANJIANG_HOUSING.code}2000109009000",
        basic_code="000109009000",
        name="商品房预售许可",
        item_type="行政许可",
        version=1,
        implementing_org=YUANJIANG_HOUSING,
        region_code=YUANJIANG_REGION,
        service_object=["企业法人"],
        scope="元江县行政区域内房地产开发企业预售其开发的商品房。",
        legal_basis=[
            "《中华人民共和国城市房地产管理法》第四十五条:商品房预售,应当符合下列条件……(四)向县级以上人民政府"
            "房产管理部门办理预售登记,取得商品房预售许可证明。",
            f"{measures} 第五条、第六条、第七条、第八条。",
        ],
        conditions=[
            "(1)已交付全部土地使用权出让金,取得土地使用权证书;",
            "(2)持有建设工程规划许可证和施工许可证;",
            "(3)按提供预售的商品房计算,投入开发建设的资金达到工程建设总投资的25%以上,并已经确定施工进度和竣工交付日期。",
        ],
        materials=[
            _material("M01", "商品房预售许可申请表", notes=f"{measures}第七条(一)"),
            _material(
                "M02", "开发企业的营业执照和资质证书", source="市场监管、住建部门核发", notes="第七条(二)"
            ),
            _material(
                "M03",
                "土地使用权证、建设工程规划许可证、施工许可证",
                source="相关主管部门核发",
                notes="第七条(三)",
            ),
            _material(
                "M04", "投入开发建设的资金占工程建设总投资的比例符合规定条件的证明", notes="第七条(四)"
            ),
            _material("M05", "工程施工合同及关于施工进度的说明", notes="第七条(五)"),
            _material("M06", "商品房预售方案（附预售商品房分层平面图）", notes="第七条(六)"),
        ],
        statutory_limit_days=10,
        promised_limit_days=7,
        case_type="2",
        fee="不收费",
        form_schema=_simple_form(
            "商品房预售许可申请表",
            {
                "项目名称": "string",
                "预售楼栋": "string",
                "预售面积": "number",
                "预售套数": "integer",
                "开发企业": "string",
            },
        ),
        guide=_GUIDE_COMMON
        | {
            "结果名称": "商品房预售许可证",
            "编码说明": _CODE_NOTE,
            "来源说明": (
                f"依《中华人民共和国城市房地产管理法》第四十五条和{measures}第五条至第八条编写（第八条：自受理之日起"
                "10日内作出决定）。种子材料中没有本事项的元江县指南；承诺时限为演示取值。"
            ),
        },
    )


def _simple_form(title: str, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "required": list(fields),
        "properties": {name: {"type": kind, "title": name} for name, kind in fields.items()},
    }


def demo_items() -> list[ItemCreate]:
    """The demonstration catalogue, construction permit first."""
    return [_construction_permit(), _planning_permit(), _presale_permit()]
