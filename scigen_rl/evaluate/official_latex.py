"""The number MathVision's official scorer reads from a LaTeX answer.

MATH-V's scorer turns an answer into a number with ``latex2sympy2`` and Python's ``eval`` (the
``math`` module's names in scope), then rounds to 2 decimals. This module computes the same number
without that package (its ANTLR runtime conflicts with this project's), quirks included:

* the parser reads the longest prefix that forms an expression and ignores the rest (``24.so the``
  reads 24, ``2triangles`` reads 2, ``5)`` reads 5), but a character its lexer does not know, once
  reached, fails the whole answer (``28.6%``); so does a syntax error (``\\frac12``, ``5(``);
* any letter fails (``official_tokens``), so does ``e`` alone (sympy's ``E``), ``\\ln`` (base ``E``),
  ``\\csc``, ``\\sec``, ``\\cot``, ``\\lceil``, ``|x|``, ``\\mod``, ``\\max`` (names ``math`` lacks);
  ``e^{x}`` is ``exp(x)``, ``\\log`` is base 10, ``a:b`` a division, ``3<4`` is 1, ``2,3`` a list
  (no number), ``5'`` is 5 (a transpose);
* numbers keep Python's types: ``3.0`` is the integer 3 (sympy's Rational), ``\\frac{4}{2}`` the
  float 2.0, which matters where a tuple's elements are printed.

Not reproduced (none occurs in the published outputs): ``\\gcd``, ``\\lcm``, ``\\operatorname``,
determinants and chained relations, which the official scorer can read; integers past a million bits.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .official_tokens import FAILING, FUNCTIONS, LETTER, OPENERS, Unreadable, starts_operand, token_at

Value = int | float

_PRODUCT = {"*", "\\times", "\\cdot"}
_QUOTIENT = {"/", "\\over", "\\div", ":"}
_COMPARE = {"<": "<", ">": ">", "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "\\ge": ">=",
            "\\geq": ">=", "\\geqslant": ">="}  # fmt: skip
_EQUATIONS = {"=", "==", "\\equiv", "\\in", "!=", "!==", "\\ne", "\\neq"}
_TRIG = {"sin", "cos", "tan", "sinh", "cosh", "tanh"}
_INVERSE = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arsinh": "asinh", "arcosh": "acosh",
            "artanh": "atanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}  # fmt: skip


class _Reader:
    """Recursive descent over the grammar's arithmetic that commits as the official parser does: a
    token that can continue the expression is taken (and must then parse), any other ends it."""

    def __init__(self, text: str) -> None:
        self.text, self.kinds, self.ends, self.at = text, list[str](), [0], 0

    def peek(self, offset: int = 0) -> str:
        while len(self.kinds) <= self.at + offset:  # tokens are read only when looked at
            kind, end = token_at(self.text, self.ends[-1])
            self.kinds.append(kind)
            self.ends.append(end)
        return self.kinds[self.at + offset]

    def take(self, *expected: str) -> str:
        kind = self.peek()
        if expected and kind not in expected:
            raise Unreadable(f"expected one of {expected}, got {kind!r}")
        self.at += 1
        return kind

    def relation(self) -> Value:
        value = self.sum()
        if self.peek() in _COMPARE or self.peek() in _EQUATIONS:
            op = _COMPARE.get(self.take())
            right = self.sum()
            if op is None or self.peek() in _COMPARE:
                raise Unreadable("an equation (sympy's Eq) or a chain of relations")
            value = int(
                {"<": value < right, ">": value > right, "<=": value <= right, ">=": value >= right}[op]
            )
        return value

    def sum(self, functions: bool = True) -> Value:
        value = self.product(functions)
        while self.peek() in ("+", "-"):
            sign = self.take()
            right = self.product(functions)
            value = value + right if sign == "+" else value - right
        return value

    def product(self, functions: bool = True) -> Value:
        value = self.signed(functions)
        while self.peek() in _PRODUCT or self.peek() in _QUOTIENT or self.peek() == "\\mod":
            op = self.take()
            right = self.signed(functions)
            if op == "\\mod":
                raise Unreadable("sympy's Mod")
            value = value * right if op in _PRODUCT else _divide(value, right)
        return value

    def signed(self, functions: bool = True) -> Value:
        if self.peek() in ("+", "-"):
            sign = self.take()
            value = self.signed(functions)
            return -value if sign == "-" else value
        value = self.postfix(True)
        while starts_operand(self.peek(), functions):  # implicit product: 2\sqrt{3}, 3(4)
            value = value * self.postfix(functions)
        return value

    def postfix(self, functions: bool) -> Value:
        value = self.power(functions)
        while self.peek() in ("!", "'", "^{\\top}"):
            if self.take() == "!":
                value = _factorial(value)
        return value

    def power(self, functions: bool) -> Value:
        value = self.operand(functions)
        while self.peek() == "^":
            exponent = self.script()
            if self.peek() == "_":
                self.script()  # a subscript on an exponent: read, then ignored
            value = _power(value, exponent)
        return value

    def braced(self) -> Value:
        self.take("{")
        value = self.sum()
        self.take("}")
        return value

    def script(self) -> Value:
        """``^x``, ``_x``, ``^{...}`` or ``_{...}``: x a single number (``2^10`` is 1024)."""
        self.take()
        return self.braced() if self.peek() == "{" else self.atom()

    def operand(self, functions: bool) -> Value:
        kind = self.peek()
        if kind in FAILING or kind == LETTER or kind.startswith("\\begin{"):
            raise Unreadable(f"{kind!r}: no number")
        if kind in ("\\left", "\\mleft"):
            self.take()
            closer = OPENERS.get(self.take())
            if closer is None:
                raise Unreadable("\\left without a bracket")
            value = self.sum()
            self.take("\\right" if kind == "\\left" else "\\mright")
            self.take(closer)
            return math.floor(value) if closer in ("\\rfloor", "\\lrcorner") else value
        if kind in OPENERS:
            self.take()
            value = self.sum()
            if kind == "{" and self.peek() == "\\choose":
                self.take()
                value = _binomial(value, self.sum())
            self.take(OPENERS[kind])
            return math.floor(value) if kind in ("\\lfloor", "\\llcorner") else value
        if kind in ("\\frac", "\\binom", "\\tbinom", "\\dbinom"):
            self.take()
            top = self.braced()
            return _divide(top, self.braced()) if kind == "\\frac" else _binomial(top, self.braced())
        if kind == "\\sqrt":
            self.take()
            root = None
            if self.peek() == "[":
                self.take()
                root = self.sum()
                self.take("]")
            return _root(self.braced(), root)
        if kind == "e":
            self.take()
            if self.peek() != "^":
                raise Unreadable("e alone is sympy's E")
            return _exp(self.script())
        if kind in FUNCTIONS:
            return self.function()
        return self.atom()

    def atom(self) -> Value:
        kind = self.take()
        if kind.startswith("#"):
            return _number(kind[1:])
        if kind == "\\pi":
            return math.pi
        raise Unreadable(f"{kind!r} cannot start a number")

    def function(self) -> Value:
        name = self.take()[1:]
        base: Value | None = None
        exponent: Value | None = None
        for _ in range(2):  # \log_2, \sin^2, in either order
            if self.peek() == "_" and base is None:
                base = self.script()
            elif self.peek() == "^" and exponent is None:
                exponent = self.script()
        if self.peek() == "(" or (self.peek() in ("\\left", "\\mleft") and self.peek(1) == "("):
            stretched = self.take() != "("
            if stretched:
                self.take("(")
            arg = self.sum()
            if self.peek() in ("\\right", "\\mright"):
                self.take()
            self.take(")")
        else:  # \sin 30: the argument is a product without further functions
            arg = self.product(functions=False)
        value = _apply(name, arg, base, exponent == -1 and name in _TRIG)
        if exponent is not None and exponent != 0 and not (exponent == -1 and name in _TRIG):
            value = _power(value, exponent)
        return value


def _apply(name: str, arg: Value, base: Value | None, inverse: bool) -> Value:
    if name in _TRIG:
        return float(getattr(math, ("a" if inverse else "") + name)(arg))
    if name in ("log", "ln"):
        if base is None and name == "ln":
            raise Unreadable("ln is log(x, E), and E is no name of math")
        return math.log(arg, 10 if base is None else base)
    if name == "exp":
        return _exp(arg)
    if name == "floor":
        return math.floor(arg)
    return float(getattr(math, _INVERSE[name])(arg))


def _number(text: str) -> Value:
    """A literal as sympy's Rational: an integer stays one (``3.0`` is 3), a percentage is /100."""
    value = Fraction(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    return value.numerator if value.denominator == 1 else value.numerator / value.denominator


def _divide(a: Value, b: Value) -> Value:
    if b == 0:
        raise Unreadable("division by zero")
    return a / b


def _power(base: Value, exponent: Value) -> Value:
    if isinstance(base, int) and isinstance(exponent, int) and exponent * abs(base).bit_length() > 10**6:
        raise Unreadable("an integer too large to compare")
    value = base**exponent
    if isinstance(value, complex):
        raise Unreadable("a complex number")
    return value


def _root(value: Value, root: Value | None) -> Value:
    if root is None or root == 2:
        return math.sqrt(value)
    return _power(value, _divide(1, root))


def _exp(arg: Value) -> Value:
    if arg == 1 and isinstance(arg, int):
        raise Unreadable("exp(1) is sympy's E")
    return 1 if arg == 0 and isinstance(arg, int) else math.exp(arg)


def _factorial(value: Value) -> Value:
    if not isinstance(value, int) or value > 5000:
        raise Unreadable("factorial of a non-integer (or too large)")
    return math.factorial(value)


def _binomial(n: Value, k: Value) -> Value:
    if not isinstance(k, int) or k > 5000:
        raise Unreadable("binomial with a non-integer k")
    if k < 0:
        return 0
    if not isinstance(n, int):  # sympy expands it: n (n-1) ... (n-k+1) / k!
        return math.prod(n - i for i in range(k)) / math.factorial(k)
    return math.comb(n, k) if n >= 0 else (-1) ** k * math.comb(k - n - 1, k)


def _prepare(text: str) -> str:
    """latex2sympy2's own rewriting before it parses."""
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\mathrm{T}", "T")
    text = text.replace("\\mathrm{d}", "d").replace("{\\rm d}", "d")
    text = re.sub(
        r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_{([a-zA-Z0-9+\-*/\\ ]+?)}", r"\\frac{(\1)!}{((\1)-(\2))!}", text
    )
    for blank in ("\\displaystyle", "\\quad", "\\qquad", "~", "\\,", "$"):
        text = text.replace(blank, " ")
    return text


def latex_number(text: str) -> Value:
    """The number the official scorer reads from ``text``, before its rounding to 2 decimals.

    Args:
        text: An answer, lower-cased as the scorer passes it.

    Returns:
        An ``int`` where Python's evaluation of sympy's expression gives one, else a ``float``.

    Raises:
        Unreadable: where the official scorer gets no number (its comparison is then False).

    >>> latex_number("\\\\frac{3\\\\sqrt{3}}{2}}.theansweris"), latex_number("2triangles"), latex_number("1:4")
    (2.598076211353316, 2, 0.25)
    >>> latex_number("12{cm}")
    Traceback (most recent call last):
    ...
    scigen_rl.evaluate.official_tokens.Unreadable: '\\\\text': no number
    """
    reader = _Reader(_prepare(text))
    try:
        value = reader.relation()
        if reader.peek() in (",", ";"):
            raise Unreadable("a list")
    except (ValueError, TypeError, OverflowError, ZeroDivisionError, RecursionError) as e:
        raise Unreadable(f"{type(e).__name__}: {e}") from e
    return value
