"""电子证照标识 E-licence identifier (GB/T 36904): ``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>``."""

from __future__ import annotations

import re

from yiwang_common.checkdigits import mod37_36_check

#: Root OID of every e-licence identifier; fixed by the standard.
ROOT_OID = "1.2.156.3005.2"

_TYPE_CODE = re.compile(r"^[0-9A-Z]{21}$")
_ISSUER_CODE = re.compile(r"^[0-9A-Z]{18}$")
_SERIAL = re.compile(r"^[0-9A-Z]{1,64}$")
_VERSION = re.compile(r"^\d{3}$")


def licence_identifier(type_code: str, issuer_code: str, serial: str, version: str = "001") -> str:
    """Build an e-licence identifier with its ISO/IEC 7064 MOD 37,36 check character.

    Args:
        type_code: 证照类型代码, 21 characters (defining body's USCC + 3-digit serial).
        issuer_code: 证照颁发机构代码, the issuer's 18-character 统一社会信用代码.
        serial: 流水号, chosen locally (here the licence number).
        version: 证照版本号, 3 digits.

    Returns:
        The identifier, e.g. ``1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F``.

    Raises:
        ValueError: if a part is malformed.
    """
    parts = {"type_code": (type_code, _TYPE_CODE), "issuer_code": (issuer_code, _ISSUER_CODE)}
    parts |= {"serial": (serial, _SERIAL), "version": (version, _VERSION)}
    for name, (value, pattern) in parts.items():
        if not pattern.match(value):
            raise ValueError(f"{name} {value!r} is not a valid GB/T 36904 {name}")
    check = mod37_36_check(type_code + issuer_code + serial + version)
    return ".".join((ROOT_OID, type_code, issuer_code, serial, version, check))


def identifier_valid(identifier: str) -> bool:
    """Tell whether a string is a well-formed identifier with the right check character.

    Args:
        identifier: a candidate identifier.

    Returns:
        True if its parts are well formed and its check character matches.
    """
    prefix = ROOT_OID + "."
    if not identifier.startswith(prefix):
        return False
    parts = identifier[len(prefix) :].split(".")
    if len(parts) != 5:
        return False
    type_code, issuer_code, serial, version, _check = parts
    try:
        return licence_identifier(type_code, issuer_code, serial, version) == identifier
    except ValueError:
        return False
