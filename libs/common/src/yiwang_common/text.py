"""Validated text: the one string type every service's request schemas use.

PostgreSQL cannot store NUL, UTF-8 cannot encode a lone surrogate (the driver fails with a
500), and control or non-characters in names, reasons and opinions end up in notices, logs and
documents printed for the applicant. So every free-text input is refused with a 422 when it
carries one, is NFC-normalised (one spelling of 张 whichever input method typed it) and has a
length limit. Filenames additionally lose the bidirectional controls that make ``exe.pdf``
show as ``fdp.exe`` (a Trojan Source trick), because they are displayed, not typed by staff.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

# Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
_NONCHARS = "\ufdd0-\ufdef" + "".join(
    chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17)
)
# C0 and C1 controls (Cc), surrogates (Cs) and noncharacters; tab, LF and CR apart.
_FORBIDDEN_INLINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARS + "]")
_FORBIDDEN_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARS + "]")
#: Bidirectional embedding, override, isolate and mark characters (Trojan Source).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """Describe the first character of ``value`` that no stored text may hold, if any.

    Args:
        value: the text.
        multiline: allow tab, line feed and carriage return.

    Returns:
        A zh-CN description such as ``包含不允许的字符 U+0000``, or ``None`` when the text is clean.
    """
    pattern = _FORBIDDEN_MULTILINE if multiline else _FORBIDDEN_INLINE
    found = pattern.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        kind = "孤立代理项"
    elif unicodedata.category(found.group()) == "Cc":
        kind = "控制字符"
    else:
        kind = "非字符"
    return f"包含不允许的{kind} U+{code:04X}"


def _cleaner(*, multiline: bool, filename: bool = False) -> Any:
    def clean(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if problem := forbidden_character(value, multiline=multiline):
            raise PydanticCustomError("text_forbidden_character", problem)
        if filename:
            value = BIDI_CONTROLS.sub("", value)
        # Trimmed here, before the length limits apply, so blank input is too short.
        return unicodedata.normalize("NFC", value).strip()

    return BeforeValidator(clean)


#: Marker that refuses forbidden characters in one-line text and NFC-normalises it.
CLEAN_LINE = _cleaner(multiline=False)
#: Marker like :data:`CLEAN_LINE` that allows tab, line feed and carriage return.
CLEAN_MULTILINE = _cleaner(multiline=True)
_CLEAN_FILENAME = _cleaner(multiline=False, filename=True)

# Narrow a limit per field with ``Annotated[Text, Field(max_length=50)]`` (limits add up, so they
# only tighten); for optional-blank text use ``Annotated[str, CLEAN_LINE, StringConstraints(...)]``.
#: 一行文本 A short one-line text (titles, notes), trimmed, not blank, at most 500 characters.
Text = Annotated[str, CLEAN_LINE, StringConstraints(min_length=1, max_length=500)]
#: 名称 A name of a person, unit, item or material, at most 200 characters.
Name = Annotated[str, CLEAN_LINE, StringConstraints(min_length=1, max_length=200)]
#: 编码 An identifier-like token (codes, keys, usernames), at most 64 characters.
Code = Annotated[str, CLEAN_LINE, StringConstraints(min_length=1, max_length=64)]
#: 多行文本 Opinions, reasons, descriptions: at most 2000 characters, line breaks allowed.
MultilineText = Annotated[str, CLEAN_MULTILINE, StringConstraints(min_length=1, max_length=2000)]
#: 文件名 A displayed filename: bidi controls removed, at most 255 characters.
Filename = Annotated[str, _CLEAN_FILENAME, StringConstraints(min_length=1, max_length=255)]


def _refuse(value: Any) -> Any:
    if isinstance(value, str) and (problem := forbidden_character(value)):
        raise PydanticCustomError("text_forbidden_character", problem)
    return value


#: 口令 A secret: never trimmed or normalised, but still free of control characters.
Secret = Annotated[str, BeforeValidator(_refuse), StringConstraints(min_length=1, max_length=256)]


def clean_filename(raw: str) -> str | None:
    """Return the displayable filename of an upload, or ``None`` when nothing is left.

    Keeps the last path component and removes bidirectional controls; refuses (``ValueError``)
    control characters and lone surrogates rather than silently altering what the user named.

    Args:
        raw: the filename as the client sent it.

    Returns:
        The cleaned filename (at most 255 characters) or ``None``.

    Raises:
        ValueError: with a zh-CN message, when the name holds a forbidden character.
    """
    if problem := forbidden_character(raw):
        raise ValueError(f"文件名{problem}")
    name = BIDI_CONTROLS.sub("", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = unicodedata.normalize("NFC", name).strip()
    return name[:255] or None


def json_text_problem(value: Any, *, pointer: str = "") -> tuple[str, str] | None:
    """Find the first string (key or value) of a JSON document that no stored text may hold.

    Values may span lines (tab, LF, CR allowed); keys may not.

    Args:
        value: the decoded JSON.
        pointer: the JSON pointer of ``value`` itself.

    Returns:
        ``(json_pointer, zh-CN message)`` of the first offender, or ``None``.
    """
    if isinstance(value, str):
        problem = forbidden_character(value, multiline=True)
        return (pointer, problem) if problem else None
    if isinstance(value, dict):
        for key, child in value.items():
            child_pointer = f"{pointer}/{_escape(str(key))}"
            if isinstance(key, str) and (problem := forbidden_character(key)):
                # The key itself may not be printable; name its position instead.
                return (pointer or "/", f"字段名{problem}")
            if found := json_text_problem(child, pointer=child_pointer):
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if found := json_text_problem(child, pointer=f"{pointer}/{index}"):
                return found
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
