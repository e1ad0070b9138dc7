"""Working-day arithmetic over the 2026 official calendar, and the check-character algorithms."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.checkdigits import (
    mod37_36_check,
    mod37_36_valid,
    resident_id_check,
    resident_id_valid,
    uscc_check,
    uscc_valid,
)


class TestWorkingDayCalendar:
    def test_national_day_week_is_skipped_and_the_adjusted_saturday_counts(self) -> None:
        cal = WorkingDayCalendar()
        # Accepted on Wed 30 Sep 2026: 1-7 Oct are holidays, Thu 8 and Fri 9 work, Sat 10 Oct is 调休.
        assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
        assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
        assert cal.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)

    def test_start_day_is_not_counted(self) -> None:
        cal = WorkingDayCalendar()
        assert cal.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
        assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)
        assert cal.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday → Monday

    def test_working_days_between_inverts_add(self) -> None:
        cal = WorkingDayCalendar()
        start = date(2026, 9, 28)
        for n in range(0, 15):
            assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
        assert cal.working_days_between(date(2026, 11, 24), date(2026, 11, 23)) == 0

    def test_configured_overrides_win(self) -> None:
        cal = WorkingDayCalendar(extra_holidays=["2026-11-24"], extra_workdays=[date(2026, 11, 28)])
        assert not cal.is_working_day(date(2026, 11, 24))
        assert cal.is_working_day(date(2026, 11, 28))
        assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)

    def test_years_without_official_data_fall_back_to_weekdays_and_warn_once(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        cal = WorkingDayCalendar(extra_holidays=["2027-01-01"])
        with caplog.at_level(logging.WARNING):
            assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
            assert cal.is_working_day(date(2027, 1, 5))
        assert sum("no official calendar" in r.message for r in caplog.records) == 1

    def test_negative_limit_is_refused(self) -> None:
        with pytest.raises(ValueError):
            WorkingDayCalendar().add_working_days(date(2026, 1, 5), -1)


class TestCheckCharacters:
    def test_licence_identifier_example_from_gb_t_36904(self) -> None:
        assert mod37_36_check("11100000000013338W032" + "11220000013544541J" + "2430599" + "001") == "F"
        assert mod37_36_valid("11100000000013338W03211220000013544541J2430599001F")
        assert not mod37_36_valid("11100000000013338W03211220000013544541J2430599001G")

    def test_mod37_36_detects_every_single_substitution(self) -> None:
        payload = "530428202611230000017"[:-1]
        check = mod37_36_check(payload)
        for i, ch in enumerate(payload):
            for other in "0123456789AZ":
                if other != ch:
                    changed = payload[:i] + other + payload[i + 1 :]
                    assert mod37_36_check(changed) != check or changed == payload

    def test_mod37_36_refuses_foreign_characters(self) -> None:
        with pytest.raises(ValueError):
            mod37_36_check("53-04")
        assert not mod37_36_valid("办")

    def test_unified_social_credit_codes(self) -> None:
        assert uscc_valid("91350100M000100Y43")
        assert uscc_valid("11100000000013338W")
        assert uscc_check("11530428015176456") == "L"
        assert not uscc_valid("91350100M000100Y44")
        assert not uscc_valid("short")
        with pytest.raises(ValueError):
            uscc_check("9135010OM000100Y4")  # letter O is not in the code's alphabet

    def test_resident_id_numbers(self) -> None:
        assert resident_id_valid("11010519491231002X")
        assert resident_id_check("53042819900101123") == "1"
        assert not resident_id_valid("110105194912310021")
        assert not resident_id_valid("11010519491231002")
        with pytest.raises(ValueError):
            resident_id_check("1101051949123100A")
