"""条件表达式 Branch conditions: a tiny, closed expression language over the application's form data.

A condition is parsed once into a tree and evaluated against the form; nothing is ever handed to
``eval`` or to Python's ``ast``, so a definition cannot reach attributes, call functions or loop
(ADR 0106). The grammar is the part of JUEL that Activiti/Flowable models use in
``conditionExpression`` (``${area > 1000 && kind == '新建'}``), with the word operators too::

    expr    := or
    or      := and (("||" | "or") and)*
    and     := not (("&&" | "and") not)*
    not     := ("!" | "not") not | cmp
    cmp     := value (op value | "in" list)?      op: == != < <= > >= eq ne lt le gt ge
    value   := number | string | true | false | null | path | "(" expr ")" | list
    path    := name ("." name)*                  name: letters (Chinese too), digits, _
    list    := "[" (value ("," value)*)? "]"

A missing field is ``null``; ordering a ``null`` or values of different kinds is false rather than
an error, because a form may leave a field out. Numeric strings compare as numbers ("5000" > 100).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

#: Longest condition accepted; a BPMN condition is one line.
MAX_LENGTH = 500
#: Deepest nesting accepted, so a hostile definition cannot exhaust the stack.
MAX_DEPTH = 32

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?\d+(?:\.\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.])
    | (?P<name>[^\W\d][\w]*)
    )""",
    re.VERBOSE | re.UNICODE,
)
_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
}
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


class ExpressionError(ValueError):
    """A condition that does not parse; ``position`` is the offset of the offending character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (位置 position {position})")
        self.position = position


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, str, op, name, end
    value: Any
    pos: int


def _tokens(source: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"无法识别的字符 unexpected character {source[pos:].lstrip()[:1]!r}", pos)
        kind = m.lastgroup or ""
        text = m.group(kind)
        start = m.start(kind)
        if kind == "num":
            out.append(_Tok("num", Decimal(text), start))
        elif kind == "str":
            out.append(_Tok("str", re.sub(r"\\(.)", r"\1", text[1:-1]), start))
        elif kind == "name" and text in _WORD_OPS:
            out.append(_Tok("op", _WORD_OPS[text], start))
        else:
            out.append(_Tok(kind, text, start))
        pos = m.end()
    out.append(_Tok("end", None, len(source)))
    return out


# A parsed condition is a nested tuple: ("const", v) ("path", names) ("list", items)
# ("not", x) ("and", a, b) ("or", a, b) ("cmp", op, a, b) ("in", a, list).
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _tokens(source)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.value != op:
            raise ExpressionError(f"此处应为 expected {op!r}", tok.pos)

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.value in ops

    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            raise ExpressionError("表达式在此处多余 unexpected trailing input", tok.pos)
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("嵌套过深 nesting too deep", self.peek().pos)

    def or_(self) -> Node:
        node = self.and_()
        while self.is_op("||"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.is_op("&&"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.is_op("!"):
            self.take()
            self.nested()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self) -> Node:
        left = self.value()
        if self.is_op(*_COMPARE):
            op = self.take().value
            return ("cmp", op, left, self.value())
        if self.is_op("in"):
            self.take()
            if not self.is_op("["):
                raise ExpressionError("in 之后应为列表 expected a list after 'in'", self.peek().pos)
            return ("in", left, self.value())
        return left

    def value(self) -> Node:
        tok = self.take()
        if tok.kind in ("num", "str"):
            return ("const", tok.value)
        if tok.kind == "name":
            if tok.value in _CONSTANTS:
                return ("const", _CONSTANTS[tok.value])
            names = [tok.value]
            while self.is_op("."):
                self.take()
                part = self.take()
                if part.kind != "name":
                    raise ExpressionError(". 之后应为字段名 expected a field name after '.'", part.pos)
                names.append(part.value)
            return ("path", tuple(names))
        if tok.kind == "op" and tok.value == "(":
            self.nested()
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "op" and tok.value == "[":
            items: list[Node] = []
            if not self.is_op("]"):
                items.append(self.value())
                while self.is_op(","):
                    self.take()
                    items.append(self.value())
            self.expect("]")
            return ("list", tuple(items))
        raise ExpressionError("此处应为值或字段 expected a value or a field", tok.pos)


def _unwrap(source: str) -> tuple[str, int]:
    """Strip a JUEL ``${…}`` / ``#{…}`` wrapper; the offset maps positions back to the source."""
    stripped = source.strip()
    lead = len(source) - len(source.lstrip())
    if len(stripped) >= 3 and stripped[0] in "$#" and stripped[1] == "{" and stripped[-1] == "}":
        return stripped[2:-1], lead + 2
    return source, 0


@lru_cache(maxsize=4096)
def parse(source: str) -> Node:
    """Parse a condition; raise :class:`ExpressionError` with the position of what is wrong."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"条件过长 longer than {MAX_LENGTH} characters", MAX_LENGTH)
    body, offset = _unwrap(source)
    if not body.strip():
        raise ExpressionError("条件为空 empty condition", offset)
    try:
        return _Parser(body).parse()
    except ExpressionError as exc:
        raise ExpressionError(str(exc).rsplit(" (位置", 1)[0], exc.position + offset) from None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None and not (isinstance(left, str) and isinstance(right, str)):
        left, right = ln, rn
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None or type(left) is not type(right):
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        # Lists or objects of the form that hold values of different kinds: not ordered.
        return False


def _eval(node: Node, form: Mapping[str, Any]) -> Any:
    tag = node[0]
    if tag == "const":
        return node[1]
    if tag == "path":
        current: Any = form
        for name in node[1]:
            current = current.get(name) if isinstance(current, Mapping) else None
        return current
    if tag == "list":
        return [_eval(n, form) for n in node[1]]
    if tag == "not":
        return not _truthy(_eval(node[1], form))
    if tag == "and":
        return _truthy(_eval(node[1], form)) and _truthy(_eval(node[2], form))
    if tag == "or":
        return _truthy(_eval(node[1], form)) or _truthy(_eval(node[2], form))
    if tag == "cmp":
        return _compare(node[1], _eval(node[2], form), _eval(node[3], form))
    needle = _eval(node[1], form)
    return any(_compare("==", needle, item) for item in _eval(node[2], form))


def _truthy(value: Any) -> bool:
    return bool(value) and value != "false"


def evaluate(source: str, form: Mapping[str, Any]) -> bool:
    """Evaluate a condition against the form data; True when the branch is taken."""
    return _truthy(_eval(parse(source), form))
