"""Spreadsheet import and export (导入导出): the template, row errors with row/column/reason, nothing
imported from a file with errors unless forced, idempotent re-import, owners and the centre."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from management_factories import ACCEPTOR, OTHER_ACCEPTOR, auth, count, wait_for_job
from python_calamine import CalamineWorkbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_management.catalogue import spreadsheet
from yiwang_management.catalogue.demo import demo_catalogue
from yiwang_management.catalogue.models import ItemVersion
from yiwang_management.config import Settings
from yiwang_management.demo import load_demo

CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")
# Rows of the demo catalogue that the tests import as new items (not the permit, whose body is ACCEPTOR's).
PERMIT, SOME = demo_catalogue()[0], demo_catalogue()[10:13]


def _row(item: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    entry = item.entry.model_dump(mode="json")
    return item.item_code, entry, item.content.model_dump(mode="json")


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in spreadsheet.ITEM_COLUMNS])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _cells(item: Any) -> list[str]:
    return spreadsheet.item_cells(*_row(item))


def _set(cells: list[str], column: str, value: str) -> list[str]:
    names = [c.name for c in spreadsheet.ITEM_COLUMNS]
    changed = list(cells)
    changed[names.index(column)] = value
    return changed


async def _import(
    client: httpx.AsyncClient, data: bytes, who: Principal = CENTRE, name: str = "清单.csv", **params: Any
) -> httpx.Response:
    """Post the file (202 + Location), then the job resource once the background job has ended."""
    r = await client.post(
        "/catalogue/imports", content=data, params={"filename": name, **params}, headers=auth(who)
    )
    if r.status_code != 202:
        return r
    return await wait_for_job(client, r.headers["location"], who)


class TestTemplate:
    async def test_blank_xlsx_has_the_element_columns_on_two_sheets(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/catalogue/template.xlsx")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
        book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
        assert book.sheet_names == ["实施清单", "申请材料"]
        header = book.get_sheet_by_name("实施清单").to_python()[0]
        assert header[:5] == ["实施编码", "基本编码", "事项名称", "事项类型", "设定依据"]
        assert "承诺办结时限" in header and "通办范围" in header and "监督投诉电话" in header
        assert "可通过数据共享获取" in book.get_sheet_by_name("申请材料").to_python()[0]

    async def test_csv_template_opens_in_excel_as_utf8(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/catalogue/template.csv")
        assert r.content.startswith("\ufeff实施编码,基本编码".encode())


class TestRowErrors:
    async def test_every_error_is_reported_and_nothing_is_imported(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        good, bad_region, no_name = SOME
        data = _csv(
            [
                _cells(good),
                _set(_cells(bad_region), "行政区划代码", "990428"),
                _set(_set(_cells(no_name), "事项名称", ""), "法定办结时限", "二十"),
            ]
        )
        r = await _import(client, data)
        assert r.status_code == 200, r.text
        job = r.json()
        assert job["status"] == "rejected" and job["total_rows"] == 3 and job["valid_rows"] == 1
        errors = {(e["row"], e["column"]) for e in job["errors"]}
        assert errors == {(3, "行政区划代码"), (4, "事项名称"), (4, "法定办结时限")}
        reasons = {e["column"]: e["reason"] for e in job["errors"]}
        assert "省级代码 99" in reasons["行政区划代码"] and reasons["事项名称"] == "必填项为空"
        assert await count(sessionmaker, ItemVersion) == 0

    async def test_forced_import_takes_the_valid_rows(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        good, bad, _ = SOME
        data = _csv([_cells(good), _set(_cells(bad), "事项类型", "行政审批")])
        job = (await _import(client, data, force="true")).json()
        assert job["status"] == "imported_with_errors" and job["created"] == 1
        assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "事项类型")]
        assert await count(sessionmaker, ItemVersion) == 1

    async def test_unknown_and_missing_columns_are_reported(self, client: httpx.AsyncClient) -> None:
        job = (await _import(client, "实施编码,事项名称,备注栏\n1,2,3\n".encode())).json()
        assert job["status"] == "rejected"
        columns = {e["column"]: e["reason"] for e in job["errors"]}
        assert columns["备注栏"] == "不是模板中的列名" and columns["行政区划代码"] == "缺少必填列"

    async def test_only_mandatory_elements_filled_imports(self, client: httpx.AsyncClient) -> None:
        required = {c.name for c in spreadsheet.ITEM_COLUMNS if c.required}
        cells = [
            v if c.name in required else ""
            for c, v in zip(spreadsheet.ITEM_COLUMNS, _cells(SOME[0]), strict=True)
        ]
        job = (await _import(client, _csv([cells]))).json()
        assert job["status"] == "imported" and job["created"] == 1, job["errors"]

    async def test_headers_and_limits_written_as_real_lists_write_them_import(
        self, client: httpx.AsyncClient
    ) -> None:
        # Marks of the mandatory columns, a line break in a header, full-width letters, a running
        # number and a remark column; limits in words (即办, 20个工作日, full-width digits).
        written = {
            "事项名称": "*事项名称",
            "行政区划代码": "行政区划\n代码",
            "法定办结时限": "法定办结时限（必填）",
        }
        header = ["序号", *(written.get(c.name, c.name) for c in spreadsheet.ITEM_COLUMNS), "备注"]
        first, second = (_cells(item) for item in SOME[:2])
        first = _set(_set(first, "法定办结时限", "２０个工作日"), "承诺办结时限", "即办")
        second = _set(_set(second, "法定办结时限", "20 工作日内"), "承诺办结时限", "5")
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, ["1", *first, "试点"], ["2", *second, ""]])
        job = (await _import(client, buffer.getvalue().encode())).json()
        assert job["status"] == "imported" and job["created"] == 2, job["errors"]
        got = []
        for item in SOME[:2]:
            r = await client.get(f"/catalogue/items/{item.item_code}/versions/1", headers=auth(CENTRE))
            content = r.json()["content"]
            got.append((content["statutory_limit_days"], content["promised_limit_days"]))
        assert got == [(20, 0), (20, 5)]

    async def test_code_cells_written_as_real_lists_write_them_import(
        self, client: httpx.AsyncClient
    ) -> None:
        cells = _cells(SOME[0])
        for column, value in {
            "事项类型": f"{_content_label(cells, '事项类型')}事项",
            "服务对象": "自然人、法人",
            "办理形式": "窗口办理、网上办理、掌上办",
            "办件类型": "联办件",
            "通办范围": "否",
            "特别程序": "听证、专家评审",
            "中介服务": "无",
        }.items():
            cells = _set(cells, column, value)
        job = (await _import(client, _csv([cells]))).json()
        assert job["status"] == "imported" and job["created"] == 1, job["errors"]
        r = await client.get(f"/catalogue/items/{SOME[0].item_code}/versions/1", headers=auth(CENTRE))
        content = r.json()["content"]
        assert content["service_objects"] == ["1", "2", "3", "4"]  # 法人: every kind of legal person
        assert content["handling_forms"] == ["1", "2", "3"] and content["case_type"] == "2"
        assert content["cross_region_scope"] is None and content["special_procedures"] == ["2"]
        assert content["intermediary_services"] == []

    async def test_a_title_above_the_header_is_read_past_and_rows_keep_their_sheet_numbers(
        self, client: httpx.AsyncClient
    ) -> None:
        good, bad, _ = SOME
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            [
                ["元江县政务服务事项实施清单"],
                ["填报单位：元江县政务服务管理局", "", "日期：2026年12月"],
                [],
                [c.name for c in spreadsheet.ITEM_COLUMNS],
                _cells(good),
                _set(_cells(bad), "事项类型", "行政审批"),
            ]
        )
        job = (await _import(client, buffer.getvalue().encode())).json()
        assert job["status"] == "rejected"
        assert [(e["row"], e["column"]) for e in job["errors"]] == [(6, "事项类型")]  # the sheet's row 6
        job = (await _import(client, buffer.getvalue().encode(), force="true")).json()
        assert job["created"] == 1, job["errors"]

    async def test_merged_cells_hold_their_value_in_every_row_they_cover(
        self, client: httpx.AsyncClient
    ) -> None:
        from openpyxl import load_workbook
        from openpyxl.utils import get_column_letter

        book = load_workbook(io.BytesIO(spreadsheet.write_xlsx([_row(item) for item in SOME[:2]])))
        sheet = book[spreadsheet.ITEM_SHEET]
        sheet.insert_rows(1)
        sheet["A1"] = "元江县政务服务事项实施清单"
        sheet.merge_cells(f"A1:{get_column_letter(len(spreadsheet.ITEM_COLUMNS))}1")
        place = get_column_letter([c.name for c in spreadsheet.ITEM_COLUMNS].index("办理地点") + 1)
        sheet[f"{place}3"] = "元江县政务服务中心一楼"
        sheet[f"{place}4"] = None
        sheet.merge_cells(f"{place}3:{place}4")  # one place for both rows, as lists merge it
        buffer = io.BytesIO()
        book.save(buffer)
        job = (await _import(client, buffer.getvalue(), name="清单.xlsx")).json()
        assert job["status"] == "imported" and job["created"] == 2, job["errors"]
        for item in SOME[:2]:
            r = await client.get(f"/catalogue/items/{item.item_code}/versions/1", headers=auth(CENTRE))
            assert r.json()["content"]["place"] == "元江县政务服务中心一楼"

    async def test_the_items_sheet_is_found_behind_a_sheet_of_instructions(
        self, client: httpx.AsyncClient
    ) -> None:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(spreadsheet.write_xlsx([_row(item) for item in SOME[:2]])))
        book[spreadsheet.ITEM_SHEET].title = "2026年清单"
        notes = book.create_sheet("填表说明", 0)
        notes["A1"] = "带 * 的列为必填项；时限以工作日计。"
        buffer = io.BytesIO()
        book.save(buffer)
        job = (await _import(client, buffer.getvalue(), name="清单.xlsx")).json()
        assert job["status"] == "imported" and job["created"] == 2, job["errors"]

    def test_sheet_wide_merged_ranges_cost_no_more_than_the_sheet(self) -> None:
        values: list[list[object]] = [["x", ""], ["", ""]]
        spreadsheet._fill_merged(values, [((0, 0), (1_048_575, 16_383))] * 1000)
        assert values == [["x", "x"], ["x", "x"]]

    async def test_a_limit_that_is_not_working_days_says_how_to_write_it(
        self, client: httpx.AsyncClient
    ) -> None:
        for value in ("二十天", "20天", "-3"):
            job = (await _import(client, _csv([_set(_cells(SOME[0]), "法定办结时限", value)]))).json()
            assert job["status"] == "rejected", value
            (error,) = job["errors"]
            assert error["column"] == "法定办结时限" and "20个工作日" in error["reason"], error

    async def test_an_xls_workbook_imports_like_an_xlsx(self, client: httpx.AsyncClient) -> None:
        import xlwt  # type: ignore[import-untyped]

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet(spreadsheet.ITEM_SHEET)
        rows = [[c.name for c in spreadsheet.ITEM_COLUMNS], *(_cells(item) for item in SOME)]
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                # Excel keeps a number typed into a cell as a number: the limits as such.
                sheet.write(r, c, int(value) if r and value.isdigit() and "时限" in rows[0][c] else value)
        buffer = io.BytesIO()
        book.save(buffer)
        job = (await _import(client, buffer.getvalue(), name="实施清单.XLS")).json()
        assert job["status"] == "imported" and job["created"] == len(SOME), job["errors"]
        again = (await _import(client, buffer.getvalue(), name="实施清单.xls")).json()
        assert again["unchanged"] == len(SOME)

    async def test_not_a_spreadsheet(self, client: httpx.AsyncClient) -> None:
        assert (await _import(client, b"x", name="list.txt")).status_code == 422
        job = (await _import(client, b"PK\x03\x04broken", name="list.xlsx")).json()
        assert job["status"] == "rejected" and "无法读取" in job["errors"][0]["reason"]

    async def test_a_sheet_over_its_row_limit_is_a_file_error_not_a_server_error(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # A whole catalogue has several materials per entry: their sheet has its own, larger limit.
        monkeypatch.setattr(spreadsheet, "MAX_MATERIAL_ROWS", 2)
        data = spreadsheet.write_xlsx([_row(item) for item in SOME])
        r = await _import(client, data, name="全省.xlsx")
        assert r.status_code == 200, r.text
        job = r.json()
        assert job["status"] == "rejected"
        assert [(e["sheet"], e["row"]) for e in job["errors"]] == [("申请材料", 4)]
        assert "最多 2 行" in job["errors"][0]["reason"]
        assert await count(sessionmaker, ItemVersion) == 0


class TestIdempotentAndRoles:
    async def test_reimporting_changes_nothing(self, client: httpx.AsyncClient) -> None:
        data = _csv([_cells(item) for item in SOME])
        first = (await _import(client, data)).json()
        again = (await _import(client, data)).json()
        assert (first["created"], again["created"], again["unchanged"]) == (3, 0, 3)

    async def test_export_of_the_demo_reimports_unchanged(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await load_demo(settings)
        exported = await client.get("/catalogue/export.xlsx")
        job = (await _import(client, exported.content, name="导出.xlsx")).json()
        assert job["status"] == "imported", job["errors"][:3]
        assert (job["total_rows"], job["unchanged"], job["created"]) == (101, 101, 0)

    async def test_materials_sheet_sets_every_attribute(self, client: httpx.AsyncClient) -> None:
        await client.post(
            "/catalogue/entries", json=PERMIT.entry.model_dump(mode="json"), headers=auth(CENTRE)
        )
        content = PERMIT.content.model_dump(mode="json")
        content["materials"][1] |= {"shareable": True, "acceptance_standard": "加盖公章"}
        data = spreadsheet.write_xlsx([(PERMIT.item_code, PERMIT.entry.model_dump(mode="json"), content)])
        job = (await _import(client, data, who=ACCEPTOR, name="住建局.xlsx")).json()
        assert job["status"] == "imported" and job["created"] == 1, job["errors"]
        r = await client.get(f"/catalogue/items/{PERMIT.item_code}/versions/1", headers=auth(CENTRE))
        material = r.json()["content"]["materials"][1]
        assert material["shareable"] is True and material["acceptance_standard"] == "加盖公章"
        assert r.json()["status"] == "draft", "a body's import is a draft for the centre to approve"

    async def test_materials_written_as_real_lists_write_them_import(self, client: httpx.AsyncClient) -> None:
        from openpyxl import load_workbook

        await client.post(
            "/catalogue/entries", json=PERMIT.entry.model_dump(mode="json"), headers=auth(CENTRE)
        )
        data = spreadsheet.write_xlsx([_row(PERMIT)])
        book = load_workbook(io.BytesIO(data))
        sheet = book[spreadsheet.MATERIAL_SHEET]
        header = [c.value for c in sheet[1]]
        for column, value in {"材料类型": "原件、复印件", "来源渠道": "自备", "材料必要性": "必须"}.items():
            sheet.cell(row=2, column=header.index(column) + 1, value=value)
        sheet.cell(row=2, column=header.index("纸质材料份数") + 1, value="2份")
        buffer = io.BytesIO()
        book.save(buffer)
        job = (await _import(client, buffer.getvalue(), who=ACCEPTOR, name="住建局.xlsx")).json()
        assert job["status"] == "imported" and job["created"] == 1, job["errors"]
        r = await client.get(f"/catalogue/items/{PERMIT.item_code}/versions/1", headers=auth(CENTRE))
        material = r.json()["content"]["materials"][0]
        assert (material["material_type"], material["source"], material["required"], material["copies"]) == (
            "3",
            "1",
            True,
            2,
        )

    async def test_a_body_imports_only_its_own_rows_and_not_new_entries(
        self, client: httpx.AsyncClient
    ) -> None:
        job = (await _import(client, _csv([_cells(SOME[0])]), who=OTHER_ACCEPTOR)).json()
        assert job["status"] == "rejected" and "本单位" in job["errors"][0]["reason"]
        job = (await _import(client, _csv([_cells(PERMIT)]), who=ACCEPTOR)).json()
        assert "须先由中心编制" in job["errors"][0]["reason"]
        job = (await _import(client, _csv([_cells(PERMIT)]), who=ACCEPTOR, publish="true")).json()
        assert job["created"] == 0 and job["errors"]

    async def test_centre_import_can_publish_and_the_job_is_readable(self, client: httpx.AsyncClient) -> None:
        job = (await _import(client, _csv([_cells(SOME[0])]), publish="true")).json()
        assert (job["created"], job["published"]) == (1, 1)
        r = await client.get(f"/catalogue/imports/{job['id']}", headers=auth(CENTRE))
        assert r.status_code == 200 and r.json()["sha256"] == job["sha256"]
        assert (
            await client.get(f"/catalogue/imports/{job['id']}", headers=auth(ACCEPTOR))
        ).status_code == 404
        assert (await client.get(f"/items/{SOME[0].item_code}")).json()["version"] == 1


def test_the_template_documentation_lists_every_column() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "catalogue-template.md").read_text(encoding="utf-8")
    for column in (*spreadsheet.ITEM_COLUMNS, *spreadsheet.MATERIAL_COLUMNS):
        assert f"| {column.name} | {'是' if column.required else ''} |" in doc, column.name


def _content_label(cells: list[str], column: str) -> str:
    return cells[[c.name for c in spreadsheet.ITEM_COLUMNS].index(column)]
