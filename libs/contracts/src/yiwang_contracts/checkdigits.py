"""ISO/IEC 7064 check characters, used by 办件编号 and 电子证照标识 (GB/T 36904)."""

from __future__ import annotations

ALPHABET_36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod37_36_check(payload: str) -> str:
    """Compute the ISO/IEC 7064 MOD 37,36 (hybrid) check character.

    Args:
        payload: characters from ``0-9A-Z`` (case-insensitive).

    Returns:
        One character from ``0-9A-Z``.

    Raises:
        ValueError: if ``payload`` has a character outside the alphabet.
    """
    m = 36
    p = m
    for ch in payload.upper():
        value = ALPHABET_36.find(ch)
        if value < 0:
            raise ValueError(f"character {ch!r} is not in 0-9A-Z")
        s = (p % (m + 1)) + value
        s = s % m or m
        p = s * 2
    return ALPHABET_36[(m + 1 - p % (m + 1)) % m]


def mod37_36_valid(value: str) -> bool:
    """Tell whether the last character of ``value`` is its correct MOD 37,36 check.

    Args:
        value: payload followed by its check character.

    Returns:
        True if the check character matches.
    """
    if len(value) < 2:
        return False
    try:
        return mod37_36_check(value[:-1]) == value[-1].upper()
    except ValueError:
        return False


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check(first17: str) -> str:
    """Compute the check character of a 统一社会信用代码 (GB 32100-2015).

    Args:
        first17: the first 17 characters.

    Returns:
        The 18th character.

    Raises:
        ValueError: on a wrong length or a character outside the code's alphabet.
    """
    if len(first17) != 17:
        raise ValueError("a unified social credit code has 17 characters before its check")
    total = 0
    for ch, weight in zip(first17.upper(), _USCC_WEIGHTS, strict=True):
        value = _USCC_ALPHABET.find(ch)
        if value < 0:
            raise ValueError(f"character {ch!r} is not allowed in a unified social credit code")
        total += value * weight
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Tell whether an 18-character 统一社会信用代码 has the right check character.

    Args:
        code: the code.

    Returns:
        True if well formed.
    """
    try:
        return len(code) == 18 and uscc_check(code[:17]) == code[17].upper()
    except ValueError:
        return False


def resident_id_check(first17: str) -> str:
    """Compute the check character of a 居民身份证号码 (GB 11643-1999, ISO 7064 MOD 11-2).

    Args:
        first17: the first 17 digits.

    Returns:
        ``0``-``9`` or ``X``.

    Raises:
        ValueError: unless ``first17`` is 17 digits.
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident id number has 17 digits before its check")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def resident_id_valid(number: str) -> bool:
    """Tell whether an 18-character 居民身份证号码 has the right check character.

    Args:
        number: the id number.

    Returns:
        True if well formed.
    """
    try:
        return len(number) == 18 and resident_id_check(number[:17]) == number[17].upper()
    except ValueError:
        return False
