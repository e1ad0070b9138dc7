"""A 100,000-item catalogue across levels and regions, made from the demo catalogue's real items.

Four provinces, 16 cities each, ~15 counties per city (GB/T 2260-shaped codes): every region
implements the demo items with its own department names, codes and guide text, as 实施清单 entries
of the same 目录清单 item do in reality. Deterministic for a given ``n``.

``python -m bench.catalogue_gen --n 100000 --out var/bench/catalogue.jsonl`` writes ItemPublished
payloads, one JSON object a line.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from yiwang_common.contracts.management import ItemPublished
from yiwang_gateway.search.demo import demo_items, org_code

PROVINCES = {"53": "云南省", "51": "四川省", "52": "贵州省", "45": "广西壮族自治区"}
_CHARS = "安宁富民宜良石林嵩明禄劝寻甸东川呈贡晋华澄江通海易门峨山新平元江麒麟沾益马龙陆良师宗罗平富源会泽施甸龙陵昌腾冲永善绥盐津大关彝良威信水富"
_PREFIXES = ("元江县", "玉溪市", "云南省")


def regions() -> Iterator[tuple[str, str]]:
    """(code, name) of every province, city and county, the province first."""
    rnd = random.Random(2260)
    for prov, prov_name in PROVINCES.items():
        yield f"{prov}0000", prov_name
        for c in range(1, 17):
            city = f"{prov}{c:02d}"
            yield f"{city}00", "".join(rnd.sample(_CHARS, 2)) + "市"
            for k in range(1, 16):
                yield f"{city}{k:02d}", "".join(rnd.sample(_CHARS, 2)) + "县"


def _department(template: str, region_name: str) -> str:
    for prefix in _PREFIXES:
        if template.startswith(prefix):
            return region_name + template[len(prefix) :]
    return template.replace("元江哈尼族彝族傣族自治县", region_name)


def generate(n: int) -> Iterator[ItemPublished]:
    templates = demo_items()
    count = 0
    while True:
        for region, region_name in regions():
            for t in templates:
                if count >= n:
                    return
                dept = _department(t.implementing_org.name, region_name)
                org = t.implementing_org.model_copy(update={"name": dept, "code": org_code(dept, region)})
                count += 1
                yield t.model_copy(
                    update={
                        "item_code": f"{org.code}{t.basic_code}{count:07d}",
                        "region_code": region,
                        "implementing_org": org,
                        "scope": f"{region_name}行政区域内",
                        "guide": t.guide | {"办理地点": f"{region_name}政务服务中心{dept}窗口"},
                    }
                )


def template_rows(n: int, *, skip: int = 0) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``n`` rows of management's import template (实施编码, 目录清单 entry, 实施清单 content):
    every region implements management's demo catalogue with its own bodies, as in ``generate``.

    The codes are valid (统一社会信用代码 check character, 实施编码 = body + level + basic code), so
    the rows pass the import's validation; ``skip`` starts further along the same sequence.
    """
    from yiwang_common.contracts.codes import region_level
    from yiwang_management.catalogue.demo import demo_catalogue, demo_org_code

    templates = [
        (t, t.entry.model_dump(mode="json"), t.content.model_dump(mode="json")) for t in demo_catalogue()
    ]
    count = 0
    for region, region_name in regions():
        level = region_level(region).value
        seen: set[str] = set()
        for t, entry, content in templates:
            dept = _department(t.content.implementing_org.name, region_name)
            code = demo_org_code(region, dept)
            item_code = f"{code}{level}{t.entry.basic_code}"
            if item_code in seen:  # the demo's city and county copies of one item fold into one body here
                continue
            seen.add(item_code)
            count += 1
            if count <= skip:
                continue
            if count > skip + n:
                return
            yield (
                item_code,
                entry,
                content
                | {
                    "exercise_level": level,
                    "region_code": region,
                    "implementing_org": content["implementing_org"] | {"name": dept, "code": code},
                    "place": f"{region_name}政务服务中心{dept}窗口",
                },
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("var/bench/catalogue.jsonl"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as f:
        for item in generate(args.n):
            f.write(orjson.dumps(item.model_dump(mode="json")) + b"\n")
    print(f"{args.n} items → {args.out}")


if __name__ == "__main__":
    main()
