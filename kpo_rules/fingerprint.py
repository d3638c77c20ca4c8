"""One fingerprint recipe for a finding, shared by baselines and SARIF.

A fingerprint must survive edits that move lines, so it leaves out the line and column
(and any positions quoted in the message); it keeps what tells two problems apart: the
rule, the file, the engagement, the subject ids (the JSON Pointer only when a finding has
no subject) and the message, so two problems of one person stay two.
"""

from __future__ import annotations

import hashlib
import re

from kpo_rules.model import Finding

_POSITIONS = re.compile(r"\bline \d+|:\d+(?::\d+)?\b")


def fingerprint(finding: Finding) -> str:
    """32 hex digits, stable across line moves."""
    subject = finding.subject
    where = (subject.service or "", subject.staff or "") if (subject.service or subject.staff) \
        else ("", finding.path)
    message = finding.message
    if ":" in message or "line " in message:  # the only ways _POSITIONS can match
        message = _POSITIONS.sub("", message)
    text = "\x1f".join((finding.rule, _posix(finding.file), finding.engagement or "", *where,
                        message))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _posix(file: str) -> str:
    """The same file named with either separator or a leading ``./`` prints the same."""
    posix = file.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return posix
