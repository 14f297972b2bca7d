"""The tokens of latex2sympy2's LaTeX grammar, as MathVision's official scorer meets them.

Its lexer takes the longest match among the grammar's fixed tokens, numbers (``1,000`` is one token,
a thousand; ``50\\%`` one too) and single letters (``d`` followed by a letter or a command is a
differential), and fails on any character no token starts with (``%``, ``°``, ``\\boxed``). Tokens
are read one at a time, as the parser asks for them, so an unknown character after the expression's
end does no harm (``5.\\boxed`` reads 5).
"""

from __future__ import annotations

import re


class Unreadable(Exception):
    """The official scorer gets no number here (a parse error, or a name ``eval`` cannot resolve)."""


def _names(words: str, prefix: str = "\\") -> set[str]:
    return {prefix + w for w in words.split()}


# Letter-like symbols and functions whose sympy form ``eval`` cannot name: where an operand may
# start, each fails the answer (a letter is a sympy symbol, and after the first differential the
# official scorer's parser raises on every letter: it overwrites a global it later iterates).
FAILING = _names(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi omicron "
    "varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "  # Greek
    "wp nabla bigstar angle nexists diagdown measuredangle eth emptyset diagup sphericalangle clubsuit "
    "varnothing complement diamondsuit imath triangledown heartsuit jmath triangle spadesuit ell hbar "
    "vartriangle hslash blacklozenge lozenge blacksquare mho blacktriangle sharp prime flat square "
    "backprime natural surd "  # other symbols
    "acute bar overline breve check widecheck dot ddot grave hat tilde widetilde vec overrightarrow bm "
    "boldsymbol text textit mathbb mathbin mathbf mathcal mathclap mathclose mathellipsis mathfrak "
    "mathinner mathit mathnormal mathop mathopen mathord mathpunct mathrel mathring mathrlap mathrm "
    "mathscr mathsf mathsterling mathtt variable "  # accents (\text{cm} is a symbol)
    "infty partial csc sec cot arccsc arcsec arccot ceil lceil ulcorner det gcd lcm max min int sum prod "
    "lim operatorname lvert vert |"
) | {"|"}
LETTER = "\\text"
"""The kind of every letter-like token (a letter, a differential)."""
FUNCTIONS = _names(
    "log ln exp sin cos tan arcsin arccos arctan sinh cosh tanh arsinh arcosh artanh arcsinh arccosh "
    "arctanh floor"
)
OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "\\lgroup": "\\rgroup", "\\lbrace": "\\rbrace",
           "\\lbrack": "\\rbrack", "\\lfloor": "\\rfloor", "\\llcorner": "\\lrcorner"}  # fmt: skip
_OTHER_OPERANDS = {"\\pi", "\\frac", "\\binom", "\\tbinom", "\\dbinom", "\\left", "\\mleft"}
_MATRICES = {
    f"\\{edge}{{{kind}}}" for edge in ("begin", "end") for kind in ("matrix", "pmatrix", "bmatrix", "vmatrix")
}
# The grammar's other fixed tokens: where they stand, the expression ends (``2triangles`` reads 2).
_KEYWORDS = sorted(
    _names(
        "+ - * / ( ) { } [ ] & _ ^ : ; , . < > = == != !== ! ' E <-> <=> ^{\\top} arsinh arcsinh arcosh "
        "arccosh artanh arctanh gcd lcm floor ceil eye zeros ones cols rows diag norm rank trace tr rref "
        "hstack vstack orth ortho orthogonal orthogonalize nullspace eig eigen diagonalize eigenvals "
        "eigenvalues eigenvects eigenvectors svd matrix pmatrix bmatrix vmatrix",
        prefix="",
    )
    | _names(
        "over rgroup } rbrace rbrack rvert | rfloor lrcorner rceil urcorner right mright to rightarrow "
        "longrightarrow sqrt times cdot div choose mod \\ xrightarrow leftrightarrow in equiv leq le "
        "leqslant geq ge geqslant ne neq"
    )
    | FAILING
    | FUNCTIONS
    | set(OPENERS)
    | _OTHER_OPERANDS
    | _MATRICES
)
_NUMBER = re.compile(r"\d+(?:,\d{3})*")
_DECIMAL = re.compile(r"\d*(?:,\d{3})*\.\d+")
_SCIENTIFIC = re.compile(r"(?:\d*(?:,\d{3})*\.\d+|\d+(?:,\d{3})*)E[+-]?\d+")
_DIFFERENTIAL = re.compile(r"d[ \t\r\n]*(?:\\[a-zA-Z]+|[a-zA-Z])")


def starts_operand(kind: str, functions: bool = True) -> bool:
    """Whether a token of this kind can begin an operand (so continue a product: ``2\\sqrt{3}``);
    without ``functions``, as in a function's argument without parentheses (``\\sin 2\\pi``)."""
    if kind in OPENERS or kind in FAILING or kind in _OTHER_OPERANDS or kind == LETTER:
        return True
    if kind.startswith("#") or kind.startswith("\\begin{"):
        return True
    return functions and (kind in FUNCTIONS or kind in ("\\sqrt", "e"))


def token_at(text: str, i: int) -> tuple[str, int]:
    """The token at ``i`` (after blanks and ``\\$``) and where it ends; the end of the text is ``""``.

    A number comes as ``#`` and its digits (commas dropped, ``%`` kept), a letter-like one as
    ``\\text``, ``e`` as itself (sympy's E), any other as its text.

    >>> token_at("1,000.5\\\\%", 0), token_at("2triangles", 1), token_at("d\\\\pi", 0), token_at("", 0)
    (('#1000.5%', 9), ('tr', 3), ('\\\\text', 4), ('', 0))
    >>> token_at("5°", 1)
    Traceback (most recent call last):
    ...
    scigen_rl.evaluate.official_tokens.Unreadable: no token at '°'
    """
    while i < len(text) and (text[i] in " \t\r\n" or text.startswith("\\$", i)):
        i += 2 if text[i] == "\\" else 1
    if i >= len(text):
        return "", i
    kind, end = "", i
    for word in _KEYWORDS:
        if len(word) > end - i and text.startswith(word, i):
            kind, end = word, i + len(word)
    for pattern in (_NUMBER, _DECIMAL, _SCIENTIFIC):
        m = pattern.match(text, i)
        if m and m.end() > end:
            kind, end = "#" + m.group().replace(",", ""), m.end()
    if kind.startswith("#") and text.startswith("\\%", end):
        kind, end = kind + "%", end + 2
    m = _DIFFERENTIAL.match(text, i)
    if m and m.end() > end:
        kind, end = LETTER, m.end()
    if end == i and text[i].isascii() and text[i].isalpha():
        kind, end = ("e" if text[i] == "e" else LETTER), i + 1
    if end == i:
        raise Unreadable(f"no token at {text[i : i + 10]!r}")
    return kind, end
