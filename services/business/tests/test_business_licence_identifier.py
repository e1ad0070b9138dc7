"""GB/T 36904 e-licence identifiers."""

from __future__ import annotations

import pytest

from yiwang_business.licence.identifier import identifier_valid, licence_identifier

SPEC_EXAMPLE = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"


class TestLicenceIdentifier:
    def test_spec_example_gets_check_character_f(self) -> None:
        identifier = licence_identifier("11100000000013338W032", "11220000013544541J", "2430599", "001")
        assert identifier == SPEC_EXAMPLE

    def test_parts_are_joined_under_the_root_oid_in_order(self) -> None:
        identifier = licence_identifier("11100000000013338W032", "11530428015176456L", "53042820261123000001")
        root, rest = identifier[:14], identifier[15:].split(".")
        assert root == "1.2.156.3005.2"
        assert rest[:4] == ["11100000000013338W032", "11530428015176456L", "53042820261123000001", "001"]
        assert len(rest[4]) == 1

    @pytest.mark.parametrize(
        ("type_code", "issuer", "serial", "version"),
        [
            ("11100000000013338W03", "11220000013544541J", "2430599", "001"),  # type code of 20
            ("11100000000013338W032", "1122000001354454", "2430599", "001"),  # issuer of 16
            ("11100000000013338W032", "11220000013544541J", "24-30599", "001"),  # serial with a dash
            ("11100000000013338W032", "11220000013544541J", "2430599", "1"),  # version not 3 digits
        ],
    )
    def test_malformed_parts_are_refused(
        self, type_code: str, issuer: str, serial: str, version: str
    ) -> None:
        with pytest.raises(ValueError, match="GB/T 36904"):
            licence_identifier(type_code, issuer, serial, version)


class TestIdentifierValid:
    def test_spec_example_is_valid(self) -> None:
        assert identifier_valid(SPEC_EXAMPLE)

    @pytest.mark.parametrize(
        "candidate",
        [
            SPEC_EXAMPLE[:-1] + "G",  # wrong check character
            SPEC_EXAMPLE.replace("2430599", "2430598"),  # serial changed, check kept
            "1.2.156.3005.3" + SPEC_EXAMPLE[14:],  # wrong root
            "1.2.156.3005.2.11100000000013338W032.F",  # parts missing
        ],
    )
    def test_tampered_identifiers_are_invalid(self, candidate: str) -> None:
        assert not identifier_valid(candidate)
