"""Examples in the documentation are real: check characters hold, and no link leaves the repository.

Every 办件编号 (region 6 + date 8 + sequence 6 + ISO/IEC 7064 MOD 37,36 check) and every
电子证照标识 (GB/T 36904: ``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>``, the
check over type + issuer + serial + version; the issuer a 统一社会信用代码 with its own GB 32100
check) found in the docs, the plugin contract and the four OpenAPI documents is recomputed here.
A reader who copies an example into a request must not be refused for a wrong check character.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.apps import offline_app
from yiwang_common.checkdigits import mod37_36_check, uscc_valid

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["yiwang_gateway", "yiwang_management", "yiwang_business", "yiwang_datasharing"]

CASE_NO = re.compile(r"(?<![0-9A-Za-z])(\d{20}[0-9A-Z])(?![0-9A-Za-z])")
LICENCE_ID = re.compile(r"(?<![0-9A-Za-z.])1\.2\.156\.3005\.2((?:\.[0-9A-Za-z]+){5})(?![0-9A-Za-z])")


def _doc_files() -> list[Path]:
    files = [
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("docs/events/*.json"),
        *ROOT.glob("services/*/PLUGIN_CONTRACT.md"),
    ]
    return sorted(files)


def _texts() -> dict[str, str]:
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in _doc_files()}
    for service in SERVICES:
        document = offline_app(service).openapi()
        texts[f"openapi:{service}"] = json.dumps(document, ensure_ascii=False)
    return texts


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return _texts()


def licence_check_ok(identifier_tail: str) -> bool:
    type_code, issuer, serial, version, check = identifier_tail.lstrip(".").split(".")
    return mod37_36_check(type_code + issuer + serial + version) == check and uscc_valid(issuer)


def test_the_sources_are_there(texts: dict[str, str]) -> None:
    assert any(name.startswith("docs/events/") for name in texts)
    assert "docs/architecture.md" in texts
    assert "services/business/PLUGIN_CONTRACT.md" in texts


def test_examples_are_found(texts: dict[str, str]) -> None:
    # Guards the patterns: if they matched nothing the checks below would pass vacuously.
    assert sum(len(CASE_NO.findall(t)) for t in texts.values()) >= 5
    assert sum(len(LICENCE_ID.findall(t)) for t in texts.values()) >= 3


def test_every_example_case_number_has_its_check_character(texts: dict[str, str]) -> None:
    wrong = {
        (name, number)
        for name, text in texts.items()
        for number in CASE_NO.findall(text)
        if mod37_36_check(number[:-1]) != number[-1]
    }
    assert wrong == set()


def test_every_example_licence_identifier_has_its_check_character(texts: dict[str, str]) -> None:
    wrong = {
        (name, "1.2.156.3005.2" + tail)
        for name, text in texts.items()
        for tail in LICENCE_ID.findall(text)
        if not licence_check_ok(tail)
    }
    assert wrong == set()


@pytest.mark.parametrize(
    ("tail", "ok"),
    [
        (".11100000000013338W032.11530428015176456L.20261123000001.001.Z", True),
        (".11100000000013338W032.11530428015176456L.20261123000001.001.7", False),
        # Right check over the parts, but the issuer's own USCC check character is wrong.
        (
            ".11100000000013338W032.11530428015176456K.20261123000001.001."
            + mod37_36_check("11100000000013338W032" + "11530428015176456K" + "20261123000001" + "001"),
            False,
        ),
    ],
)
def test_licence_check(tail: str, ok: bool) -> None:
    assert licence_check_ok(tail) is ok


# --- No links out of the repository -------------------------------------------------------------
# Documentation must read the same offline and must not send readers to pages that change or
# vanish. Allowed: the local stack (localhost, 127.0.0.1) that README commands talk to, and the
# ``$schema`` identifier of JSON Schema 2020-12 in generated schemas, which names a dialect and
# is never fetched.

URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s)\"'<>`\]]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}")
LOCAL = re.compile(r"(?i)^https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?(?:/|$)")
SCHEMA_IDS = {"https://json-schema.org/draft/2020-12/schema"}


def _link_files() -> list[Path]:
    files = [p for p in ROOT.glob("docs/**/*") if p.is_file()]
    files += [p for p in (ROOT / "README.md", ROOT / "CONTRIBUTING.md") if p.exists()]
    files += list(ROOT.glob("services/*/PLUGIN_CONTRACT.md"))
    return sorted(files)


def _schema_ids(path: Path) -> set[str]:
    if path.suffix != ".json":
        return set()
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$schema"), str):
                found.add(node["$schema"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def outside_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    allowed_ids = _schema_ids(path) & SCHEMA_IDS
    return [u for u in URL.findall(text) if not LOCAL.match(u) and u.rstrip(".,;") not in allowed_ids]


def test_docs_do_not_link_outside_the_repository() -> None:
    files = _link_files()
    assert any(p.name == "README.md" for p in files)
    found = {str(p.relative_to(ROOT)): links for p in files if (links := outside_links(p))}
    assert found == {}


def test_link_check_sees_outside_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "see https://example.org/x and www.gov.cn, run http://127.0.0.1:8000/api/v1/items", encoding="utf-8"
    )
    assert outside_links(page) == ["https://example.org/x", "www.gov.cn"]
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "description": "https://evil.test"}
        ),
        encoding="utf-8",
    )
    assert outside_links(schema) == ["https://evil.test"]
