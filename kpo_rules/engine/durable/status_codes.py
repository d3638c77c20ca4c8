"""durable-rules' numeric status codes, translated into text naming what is wrong.

* **Errors are Python errors naming what is wrong.** Rule bodies are checked before
  registration and durable's numeric codes are translated (:data:`_ERROR_CODES`) into a
  :class:`ValueError` naming the rule. A recipe that fails for a firing becomes an
  :class:`ActionFailure`; the other rules still fire.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

#: durable-rules status codes (src/rules/rules.h and json.h of jruizgit/rules), with the
#: causes measured for the ones a rule body or a fact can trigger.
_ERROR_CODES: Final[Mapping[int, str]] = {
    1: "event not handled",
    2: "event already observed (duplicate fact id)",
    3: "event deferred",
    100: "unexpected end of an object or array (an empty expression, or a pattern "
    "that is not an object)",
    101: "out of memory",
    102: "unexpected type (e.g. a list literal, a non-string regex, '$and'/'$or' "
    "without a list, or an array item '$i' compared with another fact's field)",
    103: "identifier too long",
    104: "unexpected value",
    105: "unexpected name (an unknown key in the rule, such as metadata)",
    106: "too many rules",
    107: "too many existence ($not) nodes",
    108: "too many rules share one pattern (durable allows 256)",
    109: "rule without 'all' or 'any'",
    110: "setting not found",
    111: "invalid handle",
    112: "too many rule sets in this process",
    113: "expression too long",
    201: "malformed JSON value",
    202: "malformed JSON string (often an unknown $-operator, or an object used as a "
    "literal value)",
    203: "malformed JSON number",
    204: "malformed JSON object (e.g. 'all' is not a list of objects)",
    205: "malformed JSON array",
    302: "too many properties in one fact",
    303: "evaluation stack exhausted (a fact passes through too many conditions)",
    304: "too many facts in one match",
    305: "message not found",
    306: "location not found",
    307: "node deleted",
    308: "node dispatching",
    309: "session not found",
    310: "no action available",
    311: "property not found",
    312: "operation not supported",
    501: "invalid regular expression",
    502: "regular expression has too many transitions",
    503: "regular expression has too many states",
    504: "regular expression queue full",
    505: "regular expression list full",
    506: "regular expression set full",
    507: "regular expression conflict",
}

_CODE_RE: Final = re.compile(r"error code: (\d+)")


def _describe(exc: BaseException) -> str:
    """``"error code N: meaning"`` for a durable error, else the exception text."""
    found = _CODE_RE.search(str(exc))
    if found is None:
        return str(exc)
    code = int(found.group(1))
    return f"error code {code}: {_ERROR_CODES.get(code, 'undocumented code')}"


def _failure_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error_of(what: str, exc: BaseException) -> str:
    return f"durable-rules could not assert {what} ({_describe(exc)})"
