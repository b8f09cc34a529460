"""JSONata as Step Functions evaluates it: the 2.0.6 language, AWS's own functions, variables as bindings.

The local stack evaluates with jsonata-python (a port of the reference
implementation) and corrects, here, what it answers differently from npm
``jsonata`` 2.0.6, the version Step Functions documents:

* ``$keys``, ``$each``, ``$spread``, ``$sift``, ``*``, ``**`` and every result list an
  object's integer-like keys first, in numeric order, as JavaScript objects do;
* ``$base64encode``/``$base64decode`` work on bytes as node's ``Buffer`` ``binary`` encoding does;
* ``$string`` (and ``&``) write JavaScript's ``JSON.stringify``: non-ASCII,
  U+2028 and U+2029 raw, every number rounded to 15 significant digits;
* numbers are doubles: integers beyond 2^53 arrive rounded, as ``JSON.parse``
  rounds them;
* the 2.1 operators ``??`` and ``?:`` and the function ``$eval`` do not exist;
* Step Functions' functions ``$partition``, ``$range``, ``$hash``, ``$random``
  (with an optional seed), ``$uuid`` and ``$parse`` (JSON parsing, an error on
  text that is not JSON) are defined.

Variables reach an expression as bindings, never as text written into it, so
each distinct expression is parsed once (an :class:`Evaluator`, which the stack owns, caches it)
and a string with any character means the same as on AWS. Evaluations run
concurrently in the interpreter's threads; each gets its own evaluation state.

:meth:`Evaluator.recording` captures every evaluation (expression, bindings, clock) for
the differential test against the reference implementation
(``tests/workflow/test_jsonata_differential.py``; see docs/local-jsonata.md).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import decimal
import hashlib
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final

from jsonata import functions as jfunctions
from jsonata import jexception, timebox
from jsonata import jsonata as jsonata_lib
from jsonata import parser as jparser
from jsonata.utils import Utils

from breakwater.errors import BreakwaterError

QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"
REFERENCE_VERSION: Final = "2.0.6"
# Operators that jsonata-python accepts but 2.0.6 (and so Step Functions) does not have.
OPERATORS_NOT_IN_2_0_6: Final = ("??", "?:")
# Built-in functions of JSONata 2.0.6 that Step Functions removes.
FUNCTIONS_NOT_ON_AWS: Final = ("eval",)
HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
# JavaScript numbers are doubles: integers are exact up to here.
MAX_SAFE_INTEGER: Final = 2**53
_MAX_ARRAY_INDEX: Final = 2**32 - 2
_SIGNIFICANT_DIGITS: Final = decimal.Context(prec=15, rounding=decimal.ROUND_HALF_UP)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BASE64_ALPHABET = re.compile("[A-Za-z0-9+/]")
_Jsonata: Final = jsonata_lib.Jsonata


class JSONataError(BreakwaterError):
    """An expression could not be parsed or evaluated (``States.QueryEvaluationError`` on AWS)."""


class UnsupportedResult(JSONataError):
    """An expression evaluated to something that is not JSON (a function)."""


class _Undefined:
    """JSONata's ``undefined``: an expression that selects nothing (JSON has no such value)."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()


# --- JavaScript values --------------------------------------------------------------------


def is_array_index(key: str) -> bool:
    """True for the keys a JavaScript object lists first: canonical integers 0 .. 2^32-2."""
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) <= _MAX_ARRAY_INDEX


def js_key_order(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object with its keys in JavaScript's order: integer-like keys ascending, then the rest as inserted."""
    indices = [key for key in obj if is_array_index(key)]
    if not indices:
        return dict(obj)
    ordered = {key: obj[key] for key in sorted(indices, key=int)}
    ordered.update((key, value) for key, value in obj.items() if key not in ordered)
    return ordered


def to_jsonata(value: Any) -> Any:
    """A JSON value as the evaluator must see it: JavaScript key order, ``null`` kept, numbers as doubles."""
    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {key: to_jsonata(item) for key, item in js_key_order(value).items()}
    if isinstance(value, list | tuple):
        return [to_jsonata(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return _js_integer(float(value))
    return value


def from_jsonata(value: Any) -> Any:
    """A result as JSON: ``null`` as None, JavaScript key order, undefined members dropped (as JSON.stringify)."""
    if value is None:
        return UNDEFINED
    if value is Utils.NULL_VALUE:
        return None
    if isinstance(value, dict):
        members = ((key, from_jsonata(item)) for key, item in js_key_order(value).items())
        return {key: item for key, item in members if item is not UNDEFINED and not _is_function(item)}
    if isinstance(value, list):
        items = (from_jsonata(item) for item in value)
        return [None if item is UNDEFINED or _is_function(item) else item for item in items]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return _js_integer(float(value))
    return value


def _js_integer(number: float) -> int | float:
    # JSON.stringify writes integral doubles below 1e21 as digits; keep those as int so json.dumps agrees.
    return int(number) if math.isfinite(number) and number.is_integer() and abs(number) < 1e21 else number


def _is_function(value: Any) -> bool:
    return isinstance(value, _Jsonata.JFunctionCallable | jparser.Parser.Symbol)


def js_number(number: float | int) -> str:
    """ECMAScript ``Number::toString``: the shortest digits that round-trip, exponent past 1e21 or below 1e-6."""
    number = float(number)
    if not math.isfinite(number):
        return "null"
    if number == 0:
        return "0"
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + int(exponent)  # the value is 0.digits x 10^n
    text: str
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return ("-" if number < 0 else "") + text


def js_quote(text: str) -> str:
    """``JSON.stringify`` of a string: control characters and lone surrogates escaped, all else raw."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def to_json(value: Any, indent: int = 0) -> str:
    """``JSON.stringify(value, null, indent)`` of a JSON value (None is ``null``; :data:`UNDEFINED` members vanish)."""
    return _Stringify(indent, string_function=False).write(value, "")


def _round15(number: float | int) -> float:
    return float(_SIGNIFICANT_DIGITS.plus(decimal.Decimal(float(number))))


@dataclasses.dataclass(frozen=True)
class _Stringify:
    """JSON.stringify; as ``$string``'s, over the evaluator's own values (None is undefined), numbers
    rounded to 15 significant digits and functions written as ``""``."""

    indent: int
    string_function: bool

    def _absent(self, value: Any) -> bool:
        if value is UNDEFINED or (self.string_function and value is None):
            return True
        return not self.string_function and _is_function(value)

    def write(self, value: Any, margin: str) -> str:
        if value is None or value is Utils.NULL_VALUE or value is UNDEFINED:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, int | float):
            return js_number(_round15(value) if self.string_function and math.isfinite(value) else value)
        if isinstance(value, str):
            return js_quote(value)
        if _is_function(value):
            return '""' if self.string_function else "null"
        inner = margin + " " * self.indent
        newline = "\n" if self.indent else ""
        separator = ": " if self.indent else ":"
        if isinstance(value, dict):
            members = [
                f"{js_quote(key)}{separator}{self.write(item, inner)}"
                for key, item in js_key_order(value).items()
                if not self._absent(item)
            ]
            return self._join("{", members, "}", inner, margin, newline)
        if isinstance(value, list | tuple):
            items = ["null" if self._absent(item) else self.write(item, inner) for item in value]
            return self._join("[", items, "]", inner, margin, newline)
        raise JSONataError(f"cannot write a {type(value).__name__} as JSON")

    @staticmethod
    def _join(opening: str, parts: list[str], closing: str, inner: str, margin: str, newline: str) -> str:
        if not parts:
            return opening + closing
        return opening + newline + inner + f",{newline}{inner}".join(parts) + newline + margin + closing


# --- functions: 2.0.6 semantics and Step Functions' own ------------------------------------


class AwsFunctions:
    """Implementations bound over jsonata-python's built-ins (each a JSONata function of the same name)."""

    @staticmethod
    def string(arg: Any, prettify: bool | None) -> str | None:
        if isinstance(arg, Utils.JList) and arg.outer_wrapper:
            arg = arg[0]
        if arg is None:
            return None
        if isinstance(arg, str):
            return arg
        if _is_function(arg):
            return ""
        if isinstance(arg, int | float) and not isinstance(arg, bool) and not math.isfinite(arg):
            raise jexception.JException("D3001", 0, arg)
        return _Stringify(2 if prettify else 0, string_function=True).write(arg, "")

    @staticmethod
    def keys(arg: Any) -> list[str]:
        if isinstance(arg, list):
            merged = {key: True for item in arg for key in AwsFunctions.keys(item)}
            return Utils.create_sequence_from_iter(js_key_order(merged).keys())
        if isinstance(arg, dict):
            return Utils.create_sequence_from_iter(js_key_order(arg).keys())
        return Utils.create_sequence()

    @staticmethod
    def each(obj: Any, func: Any) -> Any:
        return jfunctions.Functions.each(js_key_order(obj) if isinstance(obj, dict) else obj, func)

    @staticmethod
    def spread(arg: Any) -> Any:
        return jfunctions.Functions.spread(js_key_order(arg) if isinstance(arg, dict) else arg)

    @staticmethod
    def sift(arg: Any, func: Any) -> Any:
        return jfunctions.Functions.sift(js_key_order(arg) if isinstance(arg, dict) else arg, func)

    @staticmethod
    def base64encode(text: str | None) -> str | None:
        """As 2.0.6 under node (``Buffer.from(text, "binary")``): the low byte of each UTF-16 code unit."""
        if text is None:
            return None
        return base64.b64encode(text.encode("utf-16-le", "surrogatepass")[0::2]).decode("ascii")

    @staticmethod
    def base64decode(text: str | None) -> str | None:
        """As 2.0.6 under node: characters outside the alphabet skipped, each byte one character (latin-1)."""
        if text is None:
            return None
        data = "".join(_BASE64_ALPHABET.findall(text.split("=", 1)[0].replace("-", "+").replace("_", "/")))
        data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
        return base64.b64decode(data + "=" * (-len(data) % 4)).decode("latin-1")

    @staticmethod
    def parse(text: str | None) -> Any:
        """``$parse``: JSON.parse; text that is not JSON is an error."""
        if text is None:
            return None
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise JSONataError(f"$parse: the argument is not valid JSON: {exc}") from exc
        return to_jsonata(value)

    @staticmethod
    def partition(array: Any, size: Any) -> list[list[Any]]:
        items = array if isinstance(array, list) else [array]
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise JSONataError("$partition: the chunk size must be a positive integer")
        return [items[start : start + size] for start in range(0, len(items), size)]

    @staticmethod
    def range(first: Any, last: Any, step: Any) -> list[int] | int:
        """A sequence: one number alone is that number, as on AWS (``$range(1, 9, 9)`` is ``1``)."""
        for name, number in (("start", first), ("end", last), ("step", step)):
            if not isinstance(number, int) or isinstance(number, bool):
                raise JSONataError(f"$range: the {name} must be an integer")
        if step == 0:
            raise JSONataError("$range: the step must not be 0")
        numbers = list(range(first, last + (1 if step > 0 else -1), step))
        return numbers[0] if len(numbers) == 1 else numbers

    @staticmethod
    def hash(value: Any, algorithm: Any) -> str:
        name = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
        if name is None:
            raise JSONataError(f"$hash: the algorithm must be one of {', '.join(HASH_ALGORITHMS)}")
        return hashlib.new(name, str(value).encode("utf-8")).hexdigest()

    @staticmethod
    def random(seed: Any) -> float:
        return random.random() if seed is None else random.Random(seed).random()

    @staticmethod
    def uuid() -> str:
        return str(uuid.uuid4())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# name: (signature, implementation); the signatures are jsonata-python's for the built-ins it has.
_FUNCTIONS: Final = {
    "string": ("<x-b?:s>", "string"),
    "keys": ("<x-:a<s>>", "keys"),
    "each": ("<o-f:a>", "each"),
    "spread": ("<x-:a<o>>", "spread"),
    "sift": ("<o-f?:o>", "sift"),
    "base64encode": ("<s-:s>", "base64encode"),
    "base64decode": ("<s-:s>", "base64decode"),
    "parse": ("<s-:x>", "parse"),
    "partition": ("<an:a>", "partition"),
    "range": ("<nnn:a<n>>", "range"),
    "hash": ("<s-s:s>", "hash"),
    "random": ("<n?:n>", "random"),
    "uuid": ("<:s>", "uuid"),
}


def _aws_frame() -> Any:
    frame = _Jsonata.Frame(_Jsonata.static_frame)
    for name, (signature, method) in _FUNCTIONS.items():
        frame.bind(name, _Jsonata.JNativeFunction(name, signature, AwsFunctions, method))
    for name in FUNCTIONS_NOT_ON_AWS:
        frame.bind(name, None)  # a bound None hides the built-in: calling it is T1006, not a function
    return frame


_AWS_FRAME: Final = _aws_frame()


class _Program(jsonata_lib.Jsonata):
    """A parsed expression; concatenation, ``*`` and ``**`` as in JavaScript."""

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        left = "" if lhs is None else AwsFunctions.string(lhs, None)
        right = "" if rhs is None else AwsFunctions.string(rhs, None)
        return (left or "") + (right or "")

    def evaluate_wildcard(self, expr: Any, value: Any) -> Any:
        return super().evaluate_wildcard(expr, js_key_order(value) if isinstance(value, dict) else value)

    def recurse_descendants(self, value: Any, results: Any) -> None:
        super().recurse_descendants(js_key_order(value) if isinstance(value, dict) else value, results)


class _Parser206(jparser.Parser):
    def __init__(self) -> None:
        super().__init__()
        for operator in OPERATORS_NOT_IN_2_0_6:
            self.symbol_table.pop(operator, None)


_CHECKERS = threading.local()


def _check_2_0_6_syntax(expression: str) -> None:
    checker = getattr(_CHECKERS, "parser", None)
    if checker is None:
        checker = _CHECKERS.parser = _Parser206()
    try:
        checker.parse(expression)
    except KeyError as exc:  # the parser meets an operator it has no symbol for
        raise JSONataError(f"S0201: the operator {exc.args[0]} does not exist in JSONata {REFERENCE_VERSION}") from exc


# --- compiling and evaluating ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """One evaluation as the local stack made it: what the differential test replays."""

    expression: str
    bindings: dict[str, Any]
    now_ms: int


class Expression:
    """One expression, parsed once; :meth:`evaluate` may run in many threads at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            _check_2_0_6_syntax(text)
            program = _Program(text)
        except jexception.JException as exc:
            raise JSONataError(_describe(exc)) from exc
        finally:
            # Constructing a program makes it the thread's "current" one; evaluate() sets its own.
            _Jsonata.CURRENT.__dict__.pop("jsonata", None)
        if program.errors:
            raise JSONataError(_describe(program.errors[0]))
        program.environment = _Jsonata.Frame(_AWS_FRAME)
        self._program = program

    def evaluate(self, bindings: Mapping[str, Any], now_ms: int | None = None) -> Any:
        """The result as JSON (None is ``null``), or :data:`UNDEFINED`.

        ``bindings`` maps variable names without ``$`` (``states``, ``order``) to JSON values;
        ``now_ms`` fixes ``$millis()`` and ``$now()`` (default: the clock).
        """
        moment = timebox.Timebox.current_milli_time() if now_ms is None else now_ms
        # jsonata-python keeps evaluation state on the program object: each evaluation gets its own copy.
        program = copy.copy(self._program)
        frame = program.create_frame(program.environment)
        for name, value in bindings.items():
            frame.bind(name, to_jsonata(value))
        frame.bind("$", None)
        program.timestamp = moment
        previous = getattr(_Jsonata.CURRENT, "jsonata", None)
        _Jsonata.CURRENT.jsonata = program
        try:
            result = program.eval(program.ast, None, frame)
        except JSONataError:
            raise
        except jexception.JException as exc:
            raise JSONataError(_describe(exc)) from exc
        except RecursionError as exc:
            raise JSONataError("stack overflow: the expression recursed too deeply") from exc
        except Exception as exc:  # jsonata-python raises assorted built-in errors on bad operands
            raise JSONataError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            _Jsonata.CURRENT.jsonata = previous
        if _is_function(result):
            raise UnsupportedResult(f"the expression '{self.text}' returned an unsupported result type (a function)")
        return from_jsonata(result)


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "error", None)
    return f"{code}: {exc}" if isinstance(code, str) and not str(exc).startswith(code) else str(exc)


def compile_expression(text: str) -> Expression:
    """The parsed expression for ``text`` (parsed now: an :class:`Evaluator` parses each text once)."""
    return Expression(text)


def evaluate(text: str, bindings: Mapping[str, Any] | None = None, now_ms: int | None = None) -> Any:
    """Evaluate ``text`` once with ``bindings`` (names without ``$``); see :meth:`Expression.evaluate`."""
    return Expression(text).evaluate(bindings or {}, now_ms)


class _Recorder:
    def __init__(self) -> None:
        self.cases: list[Case] = []
        self._lock = threading.Lock()

    def record(self, text: str, bindings: Mapping[str, Any], now_ms: int) -> None:
        # A JSON round trip copies the values as they are now (the interpreter goes on changing its own).
        frozen = json.loads(json.dumps(dict(bindings), default=str))
        with self._lock:
            self.cases.append(Case(text, frozen, now_ms))


class Evaluator:
    """A local stack's JSONata: each distinct expression parsed once (a syntax error is not kept), and every
    evaluation recorded while :meth:`recording` is open. The stack owns one (``LocalServices.jsonata``)."""

    def __init__(self) -> None:
        self._cache: dict[str, Expression] = {}
        self._lock = threading.Lock()
        self._recorder: _Recorder | None = None

    def compile(self, text: str) -> Expression:
        """The parsed expression for ``text``, parsed on first use only."""
        expression = self._cache.get(text)
        if expression is None:
            expression = Expression(text)
            with self._lock:
                expression = self._cache.setdefault(text, expression)
        return expression

    def evaluate(self, text: str, bindings: Mapping[str, Any] | None = None, now_ms: int | None = None) -> Any:
        """Evaluate ``text`` with ``bindings`` (names without ``$``); see :meth:`Expression.evaluate`."""
        expression = self.compile(text)
        moment = timebox.Timebox.current_milli_time() if now_ms is None else now_ms
        recorder = self._recorder
        if recorder is not None:
            recorder.record(text, bindings or {}, moment)
        return expression.evaluate(bindings or {}, moment)

    def parsed_count(self) -> int:
        """How many distinct expressions have been parsed."""
        return len(self._cache)

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Case]]:
        """Record every evaluation made inside the block (in any thread) into the list it yields."""
        recorder = _Recorder()
        with self._lock:
            if self._recorder is not None:
                raise JSONataError("evaluations are already being recorded")
            self._recorder = recorder
        try:
            yield recorder.cases
        finally:
            with self._lock:
                self._recorder = None
