"""申请草稿 (ADR 0115): save unfinished, submit once through the form-schema check, owner only;
the generated form's subset (types, enum, date, required, min/max, pattern) and its coercion."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from gateway_support import FORM, ITEM_CODE, Accounts, count, upload

from yiwang_common.contracts.management import ItemPublished
from yiwang_common.forms import form_errors
from yiwang_gateway.draft.formschema import coerce, errors_by_field, fields_of

URL = "/api/v1/application-drafts"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "area", "floors", "start", "kind"],
    "properties": {
        "name": {
            "type": "string",
            "title": "工程名称",
            "minLength": 2,
            "maxLength": 20,
            "pattern": "^[^0-9]+$",
        },
        "area": {"type": "number", "title": "建设规模", "exclusiveMinimum": 0, "maximum": 100000},
        "floors": {"type": "integer", "title": "层数", "minimum": 1, "maximum": 99},
        "start": {"type": "string", "format": "date", "title": "计划开工日期"},
        "kind": {"type": "string", "enum": ["新建", "改建"], "title": "建设性质"},
        "fire": {"type": "boolean", "title": "需消防审查"},
    },
}


class TestGeneratedForm:
    def test_fields_follow_the_schema_subset(self) -> None:
        views = {f.name: f for f in fields_of(SCHEMA, {"area": 12.5, "fire": True}, {"floors": "不得小于 1"})}
        assert [v.widget for v in views.values()] == [
            "text",
            "number",
            "number",
            "date",
            "select",
            "checkbox",
        ]
        assert views["name"].attrs == {"maxlength": "20", "minlength": "2", "pattern": "^[^0-9]+$"}
        assert views["floors"].attrs == {"min": "1", "max": "99", "step": "1"}
        assert views["area"].value == "12.5" and views["fire"].checked
        assert views["floors"].error == "不得小于 1"
        assert views["kind"].options == [("新建", "新建"), ("改建", "改建")]
        assert all(views[n].required for n in ("name", "area", "floors", "start", "kind"))
        assert not views["fire"].required

    def test_coercion_then_jsonschema_names_each_field_in_chinese(self) -> None:
        form, bad = coerce(
            SCHEMA,
            {
                "name": "教学楼1",
                "area": "abc",
                "floors": "0",
                "start": "2027-02-30",
                "kind": "拆除",
                "fire": "true",
            },
        )
        assert bad == {"area": "请填写数字", "kind": "请从列表中选择"}
        assert form == {"name": "教学楼1", "floors": 0, "start": "2027-02-30", "fire": True}
        per_field, general = errors_by_field(form_errors(SCHEMA, form))
        assert per_field == {
            "area": "必填项未填写",
            "floors": "不得小于 1",
            "kind": "必填项未填写",
            "name": "格式不正确",
            "start": "不是有效的日期",
        }
        assert general == []
        good, bad = coerce(
            SCHEMA, {"name": "教学楼", "area": "5200", "floors": "6", "start": "2027-03-01", "kind": "新建"}
        )
        assert bad == {} and good["area"] == 5200 and isinstance(good["floors"], int)
        assert form_errors(SCHEMA, good) == []

    def test_integer_refuses_a_fraction_and_blank_is_left_out(self) -> None:
        form, bad = coerce(SCHEMA, {"floors": "2.5", "name": "  "})
        assert bad == {"floors": "请填写整数"} and form == {}


class TestDraftApi:
    async def test_save_unfinished_then_submit_once(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            URL, json={"item_code": ITEM_CODE, "form": {"project_name": "教学楼"}}, headers=headers
        )
        assert r.status_code == 201, r.text
        draft = r.json()
        assert draft["form"] == {"project_name": "教学楼"} and draft["application_id"] is None
        url = f"{URL}/{draft['draft_id']}"
        mine = (await client.get(URL, headers=headers)).json()
        assert [d["draft_id"] for d in mine["items"]] == [draft["draft_id"]]
        assert (await client.get(URL, headers=auth(accounts.lisi))).json()["items"] == []
        # Unfinished: submitting names every missing field, as POST /applications does; nothing is submitted.
        r = await client.post(f"{url}/submit", headers=headers)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in r.json()["fields"]} == {"address", "area_m2"}
        assert await count(sessionmaker, "application") == 0
        # A wrong type is refused on submit with the field's Chinese title.
        r = await client.put(url, json={"form": FORM | {"area_m2": "很大"}}, headers=headers)
        assert r.status_code == 200
        r = await client.post(f"{url}/submit", headers=headers)
        assert r.status_code == 422
        assert r.json()["fields"][0]["title"] == "建设规模（平方米）"
        r = await client.put(
            url, json={"form": FORM, "materials": [{"material_code": "M01", "sha256": sha}]}, headers=headers
        )
        assert r.status_code == 200 and r.json()["materials"] == [{"material_code": "M01", "sha256": sha}]
        r = await client.post(f"{url}/submit", headers=headers)
        assert r.status_code == 202, r.text
        application_id = r.json()["application_id"]
        assert (await client.get(url, headers=headers)).json()["application_id"] == application_id
        assert (await client.get(f"/api/v1/applications/{application_id}", headers=headers)).json()[
            "form"
        ] == FORM
        # Once submitted, a draft neither changes nor submits again.
        assert (await client.post(f"{url}/submit", headers=headers)).status_code == 409
        assert (await client.put(url, json={"form": {}}, headers=headers)).status_code == 409
        assert await count(sessionmaker, "application") == 1
        assert (await client.get(URL, headers=headers)).json()["items"] == []  # submitted: no longer a draft

    async def test_someone_elses_draft_is_not_found(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished
    ) -> None:
        r = await client.post(
            URL, json={"item_code": ITEM_CODE, "form": FORM}, headers=auth(accounts.zhangsan)
        )
        url = f"{URL}/{r.json()['draft_id']}"
        other = auth(accounts.lisi)
        for response in (
            await client.get(url, headers=other),
            await client.put(url, json={"form": {}}, headers=other),
            await client.post(f"{url}/submit", headers=other),
            await client.get(f"{URL}/{uuid.uuid4()}", headers=other),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "draft_not_found"
        # Staff are not applicants.
        assert (await client.get(url, headers=auth(accounts.chuangkou))).status_code == 403
        assert (await client.get(url)).status_code == 401

    async def test_bad_input_is_a_problem(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished
    ) -> None:
        headers = auth(accounts.zhangsan)
        cases = [
            ({"item_code": ITEM_CODE, "form": {}, "extra": 1}, 422),
            ({"item_code": "NOPE0000", "form": {}}, 404),
            ({"item_code": ITEM_CODE, "form": {"project_name": "a\u0000b"}}, 422),
            ({"item_code": ITEM_CODE, "materials": [{"material_code": "M09", "sha256": "0" * 64}]}, 422),
            ({"item_code": ITEM_CODE, "materials": [{"material_code": "M01", "sha256": "1" * 64}]}, 422),
        ]
        for body, status in cases:
            r = await client.post(URL, json=body, headers=headers)
            assert r.status_code == status, (body, r.text)
            assert r.headers["content-type"] == "application/problem+json"
