"""个人信息脱敏: the shared masking rules."""

from __future__ import annotations

import pytest

from yiwang_common.masking import (
    mask_id_number,
    mask_identifier,
    mask_middle,
    mask_mobile,
    mask_name,
    mask_person_name,
)


def test_id_number_shows_first_six_and_last_four() -> None:
    assert mask_id_number("530428199001011231") == "530428********1231"
    assert mask_id_number("53042819850505234X") == "530428********234X"


def test_mobile_shows_three_and_four() -> None:
    assert mask_mobile("13800000001") == "138****0001"


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王", "*")])
def test_person_name_shows_only_the_first_character(name: str, masked: str) -> None:
    assert mask_person_name(name) == masked


def test_legal_person_name_and_credit_code_stay_public() -> None:
    assert mask_name("元江县城市建设投资有限公司", kind="legal_person") == "元江县城市建设投资有限公司"
    assert mask_name("张三", kind="natural_person") == "张*"
    assert mask_identifier("91530428MA6K000015", id_type="001") == "91530428MA6K000015"
    assert mask_identifier("530428199001011231", id_type="111") == "530428********1231"


def test_short_values_are_never_shown_whole() -> None:
    assert mask_middle("1234", 3, 4) == "****"
    assert mask_id_number("12345") == "*****"
    assert mask_middle("abcdef", 2, 0) == "ab****"
    assert mask_mobile(None) is None and mask_person_name(None) is None
