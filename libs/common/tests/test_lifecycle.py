"""The case lifecycle: one table of moves, one order for projections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yiwang_common.contracts.lifecycle import (
    FINAL,
    TRANSITIONS,
    CaseStatus,
    before,
    can_move,
    level_with,
    stage,
    supersedes,
)

S = CaseStatus
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class TestTransitions:
    def test_the_table_is_the_lifecycle_management_enforces(self) -> None:
        moves = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
        assert moves == {
            (S.SUBMITTED, S.PENDING_ACCEPTANCE),
            (S.PENDING_ACCEPTANCE, S.ACCEPTED),
            (S.PENDING_ACCEPTANCE, S.AWAITING_SUPPLEMENT),
            (S.PENDING_ACCEPTANCE, S.NOT_ACCEPTED),
            (S.AWAITING_SUPPLEMENT, S.PENDING_ACCEPTANCE),
            (S.AWAITING_SUPPLEMENT, S.NOT_ACCEPTED),
            (S.ACCEPTED, S.COMPLETED),
            # 容缺逾期退回 (ADR 0119): only while a 容缺 material is owed, enforced by management.
            (S.ACCEPTED, S.NOT_ACCEPTED),
        }
        assert set(TRANSITIONS) == set(CaseStatus)
        assert FINAL == {S.NOT_ACCEPTED, S.COMPLETED}

    @pytest.mark.parametrize(
        ("current", "new"),
        [
            ("accepted", "pending_acceptance"),
            ("completed", "accepted"),
            ("not_accepted", "pending_acceptance"),
            ("awaiting_supplement", "accepted"),
            ("submitted", "accepted"),
        ],
    )
    def test_moves_outside_the_table_are_refused(self, current: str, new: str) -> None:
        assert not can_move(current, new)

    def test_no_move_goes_to_an_earlier_stage(self) -> None:
        for a, targets in TRANSITIONS.items():
            for b in targets:
                assert stage(b) >= stage(a), (a, b)

    def test_every_status_has_a_chinese_label(self) -> None:
        assert [s.label for s in CaseStatus] == ["已提交", "待受理", "待补正", "已受理", "不予受理", "已办结"]

    def test_unknown_status_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="archived"):
            stage("archived")


class TestProjectionOrder:
    def test_a_later_stage_wins_whatever_the_times(self) -> None:
        assert supersedes("pending_acceptance", T0, "accepted", T0 - timedelta(days=1))
        assert not supersedes("accepted", T0 - timedelta(days=1), "pending_acceptance", T0)
        assert not supersedes("completed", T0, "accepted", T0 + timedelta(hours=1))

    def test_the_supplement_loop_is_ordered_by_event_time(self) -> None:
        # A late 登记 after the notice does not undo 待补正; a second notice after the supplement does apply.
        assert not supersedes("awaiting_supplement", T0, "pending_acceptance", T0 - timedelta(minutes=1))
        assert supersedes("pending_acceptance", T0, "awaiting_supplement", T0 + timedelta(minutes=1))
        assert supersedes("awaiting_supplement", T0, "pending_acceptance", T0 + timedelta(minutes=1))
        assert supersedes("pending_acceptance", None, "awaiting_supplement", T0)

    def test_before_and_level_with_partition_the_statuses(self) -> None:
        for s in CaseStatus:
            assert before(s) | level_with(s) | {x for x in CaseStatus if stage(x) > stage(s)} == set(
                CaseStatus
            )
            assert s in level_with(s) and s not in before(s)
        assert before("accepted") == {S.SUBMITTED, S.PENDING_ACCEPTANCE, S.AWAITING_SUPPLEMENT}
