"""Findings packed in the workers come back in the parent as they were."""

from __future__ import annotations

import dataclasses
import pickle

from kpo_rules.model import Finding, Severity, Subject
from kpo_rules.packed import FindingList
from kpo_rules.packing import Packed


def _finding(**changes: object) -> Finding:
    """A finding whose every field differs from its default."""
    values: dict[str, object] = {
        "rule": "COM-LANG-001", "severity": Severity.WARNING, "category": "language",
        "message": "Asha (s-1) writes English at B2; service 'tax' needs C1",
        "file": "engagements/acme.yaml", "line": 12, "column": 7, "engagement": "acme-2026",
        "subject": Subject(service="tax", staff="s-1"), "path": "/services/0/assignees/0",
        "remediation": "Assign staff at C1", "references": ("CEFR (Council of Europe, 2001)",),
        "plugin": "common",
    }
    values.update(changes)
    return Finding(**values)  # type: ignore[arg-type]


def test_the_pickled_state_holds_every_field_of_a_finding_and_a_subject() -> None:
    finding = _finding()
    for value in (finding, finding.subject):
        names = [f.name for f in dataclasses.fields(value)]
        assert value.__getstate__() == tuple(getattr(value, n) for n in names)
        defaults = {f.name: f.default for f in dataclasses.fields(value)}
        assert all(getattr(value, n) != defaults[n] for n in names)
    copy = pickle.loads(pickle.dumps(finding))
    assert copy == finding
    assert copy.subject == finding.subject
    assert copy.severity is Severity.WARNING


def test_a_frozen_finding_stays_frozen_after_unpickling() -> None:
    copy = pickle.loads(pickle.dumps(_finding()))
    try:
        copy.line = 3  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("an unpickled finding could be changed")


def test_packed_findings_come_back_equal_in_report_order() -> None:
    dictionary = b"COM-LANG-001\x00language"
    first = [_finding(line=9), _finding(line=2, subject=Subject()), _finding(engagement=None)]
    other = [_finding(file="a.yaml", references=())]
    packed = Packed.of(sorted(first, key=lambda f: f.sort_key), dictionary)
    assert packed.count == 3
    assert packed.severities == (0, 3, 0)
    found = FindingList([("engagements/acme.yaml", packed),
                         ("a.yaml", Packed.of(other, dictionary))], dictionary)
    assert list(found) == [*other, *sorted(first, key=lambda f: f.sort_key)]
