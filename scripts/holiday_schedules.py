"""Write the packaged holiday schedules (节假日安排, one JSON file per year) from ``chinese-calendar``.

``python -m scripts.holiday_schedules`` regenerates ``libs/common/src/yiwang_common/calendar_data/<year>.json``
for every year the installed package knows; a test checks the files agree with it day by day.
Years the package does not know yet are loaded as data (ADR 0007), never generated.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from chinese_calendar.constants import Holiday, holidays, workdays

OUT = Path(__file__).resolve().parents[1] / "libs" / "common" / "src" / "yiwang_common" / "calendar_data"
_CHINESE = {h.value: h.chinese for h in Holiday}


def schedule(year: int) -> dict[str, object]:
    """The schedule document of one year, periods grouped by consecutive days of one holiday."""
    periods: list[dict[str, str]] = []
    for day in sorted(d for d in holidays if d.year == year):
        name = _CHINESE.get(holidays[day], holidays[day])
        last = periods[-1] if periods else None
        if last and last["name"] == name and date.fromisoformat(last["end"]) + timedelta(days=1) == day:
            last["end"] = day.isoformat()
        else:
            periods.append({"name": name, "start": day.isoformat(), "end": day.isoformat()})
    worked = [
        {"name": _CHINESE.get(workdays[d], workdays[d]), "date": d.isoformat()}
        for d in sorted(d for d in workdays if d.year == year)
    ]
    return {
        "year": year,
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知（据 chinese-calendar 数据生成）",
        "holidays": periods,
        "workdays": worked,
    }


def main() -> None:
    years = sorted({d.year for d in holidays})
    for year in years:
        text = json.dumps(schedule(year), ensure_ascii=False, indent=2) + "\n"
        (OUT / f"{year}.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(years)} schedules ({years[0]}–{years[-1]}) to {OUT}")


if __name__ == "__main__":
    main()
