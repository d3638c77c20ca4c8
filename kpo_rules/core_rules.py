"""The rules the core itself reports (syntax, schema, references, engine errors).

Plugin rules document themselves in their rule files; these have no rule file, so
they are described here, once, for every output that needs a rule's metadata
(SARIF ``tool.driver.rules``, GitHub annotation titles) and for the README table.

:func:`rule_catalogue` joins this table with the rules of a run's plugins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpo_rules.model import Finding, Severity, Subject

if TYPE_CHECKING:
    from kpo_rules.engine.rule_model import Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreRule:
    """A core rule, with the documentation attributes a plugin :class:`Rule` has too."""

    id: str
    category: str
    title: str
    checks: str
    why: str
    remediation: str
    references: tuple[str, ...]
    severity: Severity = Severity.ERROR
    basis: str = "core"
    plugin: str = "core"
    unverified: str = ""


_FORMAT = "The engagement file format: `kpo-rules docs engagement-file`"
_REFERENCES = (_FORMAT,)
_WAIVERS = ("Waivers and baselines: `kpo-rules docs waivers-and-baselines`",)
_WHY_REF = (
    "A reference that points nowhere means the rules cannot see the person, centre or "
    "definition it names, so whatever they would have checked goes unchecked."
)

CORE_RULES: tuple[CoreRule, ...] = (
    CoreRule(
        id="KPO-SYN-001", category="syntax", title="File is not readable YAML",
        checks="The file is UTF-8 YAML 1.2 that a safe loader can read: no syntax error, no "
               "duplicate key, no binary content, no alias bomb, nesting not too deep.",
        why="Nothing else in a file can be checked until it can be read; reporting this as a "
            "finding (not a crash) keeps the other files of the run checked.",
        remediation="Fix the YAML at this position; the rest of the file was not checked.",
        references=("YAML Ain't Markup Language, version 1.2.2 (yaml.org/spec/1.2.2)", _FORMAT),
    ),
    CoreRule(
        id="KPO-SCH-001", category="schema", title="Document breaks the engagement schema",
        checks="An Engagement or Roster document matches its JSON Schema: no unknown field, no "
               "missing field, every value of the right type and among the allowed values.",
        why="Rules read the fields the schema promises; a misspelt or missing field would "
            "otherwise make a rule silently pass.",
        remediation="Correct the field as the message says; `kpo-rules schema engagement` "
                    "prints the full schema.",
        references=(_FORMAT,),
    ),
    CoreRule(
        id="KPO-SCH-002", category="schema", title="File holds no YAML document",
        checks="A file named in the run holds at least one YAML document.",
        why="An empty file checked in CI usually means a lost or truncated engagement.",
        remediation="Add an Engagement or Roster document, or remove the file from the run.",
        references=(_FORMAT,),
    ),
    CoreRule(
        id="KPO-REF-001", category="reference", title="Service names unknown staff",
        checks="Every assignee and supervisor of a service is defined inline in the "
               "engagement's staff or on a roster checked in the same run.",
        why=_WHY_REF,
        remediation="Add the person to staff: (or to a roster checked in the same run), "
                    "or correct the id.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-002", category="reference", title="Service names unknown delivery centre",
        checks="Every service's delivery_centre is listed in provider.delivery_centres.",
        why=_WHY_REF,
        remediation="Add the centre to provider.delivery_centres or correct the id.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-003", category="reference", title="Id used twice",
        checks="Engagement ids are unique in a run; staff, service and delivery-centre ids "
               "are unique within their engagement.",
        why="A duplicate id makes every reference to it ambiguous.",
        remediation="Give every engagement, staff member, service and centre its own id.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-004", category="reference", title="Staff id defined on two rosters",
        checks="A staff id appears on at most one roster of the run.",
        why="Roster staff are global to a run, so two definitions make assignments ambiguous.",
        remediation="Roster staff ids are global to a run; rename one of them or remove the copy.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-005", category="reference", title="Inline staff shadows roster staff",
        checks="An engagement's inline staff member does not reuse the id of a roster member.",
        why="The inline definition would silently replace the roster's, with other "
            "qualifications.",
        remediation="Refer to the roster member by id only, or give the inline member "
                    "another id.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-006", category="reference", title="Unknown IANA time zone",
        checks="Every timezone (client, delivery centre, staff location) is a key of the "
               "IANA time zone database.",
        why="Availability and overlap rules compute working hours from the zone; an unknown "
            "zone makes them guess.",
        remediation="Use a zone name such as Europe/Berlin or Asia/Kolkata (see the tz "
                    "database).",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-007", category="reference", title="Service names unknown task",
        checks="Every service's task is defined by a loaded plugin's task catalogue.",
        why="Qualification and regulation rules are keyed by task; an unknown task is "
            "checked by none of them.",
        remediation="Use a task of a loaded plugin's task catalogue, or enable its plugin.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-008", category="reference", title="Unknown credential",
        checks="Every credential a staff member holds is defined by a loaded plugin.",
        why="A credential no plugin defines cannot satisfy any qualification rule.",
        remediation="Use a credential id of a loaded plugin's catalogue.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-009", category="reference", title="Unknown framework",
        checks="Every framework a staff member is familiar with is defined by a loaded plugin.",
        why="A framework no plugin defines cannot satisfy any familiarity rule.",
        remediation="Use a framework id of a loaded plugin's catalogue.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-REF-010", category="reference", title="No country plugin for the client",
        checks="A loaded country plugin covers the client's country.",
        why="Rules cannot judge a country they know nothing of; without its plugin the "
            "engagement would pass unchecked.",
        remediation="Install or enable the country plugin (see `kpo-rules plugins`), or "
                    "correct the code.",
        references=_REFERENCES,
    ),
    CoreRule(
        id="KPO-ENG-001", category="engine-error", title="Rule failed while checking",
        checks="Every rule of every loaded plugin evaluates without raising an error.",
        why="A rule that crashed has not judged the engagement, so its silence is not a pass.",
        remediation="Report this to the plugin's authors; the other rules still ran.",
        references=(),
    ),
    CoreRule(
        id="KPO-ENG-002", category="engine-error", title="File not checked: worker crashed",
        checks="Every file and engagement is checked to the end.",
        why="A worker process that dies (a crash in the rule engine's C code) has judged "
            "nothing; the file is reported so its silence is never taken for a pass.",
        remediation="Report the file to the kpo-rules maintainers; the other files were "
                    "checked.",
        references=(),
    ),
    CoreRule(
        id="KPO-ENG-003", category="engine-error", title="File not checked: internal error",
        checks="Every file and engagement is checked to the end without an unexpected error.",
        why="An error kpo-rules did not foresee has left the file (or one engagement of it) "
            "unjudged; it is reported so its silence is never taken for a pass, and the "
            "other files are still checked.",
        remediation="Report the file and the message to the kpo-rules maintainers; the other "
                    "files were checked.",
        references=(),
    ),
    CoreRule(
        id="KPO-ENG-004", category="engine-error", title="Too many findings in one file",
        checks="A file has at most 1,000 findings; the rest are counted in one finding.",
        why="A generated or broken file with thousands of findings would bury every other "
            "file's findings and make reports too large to read or upload; the count keeps "
            "the run honest.",
        remediation="Fix the findings shown (they often share one cause) and check again.",
        references=(), severity=Severity.WARNING,
    ),
    CoreRule(
        id="KPO-WAI-001", category="waiver", title="Waiver expired",
        checks="Every waiver's expiry date is on or after the run date (--today).",
        why="An exception was approved for a time; after it, the findings it hid are "
            "reported again so nobody relies on an approval that lapsed.",
        remediation="Fix the findings, or renew the waiver with a new approval and date.",
        references=_WAIVERS,
    ),
    CoreRule(
        id="KPO-WAI-002", category="waiver", title="Waiver names an unknown rule",
        checks="Every waiver names a rule a loaded plugin defines.",
        why="A misspelt rule id waives nothing and hides that the intended finding remains.",
        remediation="Correct the rule id (kpo-rules rules list) or remove the waiver.",
        references=_WAIVERS,
    ),
    CoreRule(
        id="KPO-WAI-003", category="waiver", title="Waiver matches no finding",
        checks="Every waiver silences at least one finding.",
        why="A stale waiver could silently hide a future, different problem.",
        remediation="Delete the waiver.",
        references=_WAIVERS, severity=Severity.WARNING,
    ),
    CoreRule(
        id="KPO-WAI-004", category="waiver", title="Waiver subject unknown",
        checks="A waiver's subject is a staff or service id of its engagement.",
        why="A subject that names nobody limits the waiver to nothing.",
        remediation="Name a staff or service id of this engagement, or drop `subject`.",
        references=_WAIVERS,
    ),
    CoreRule(
        id="KPO-WAI-005", category="waiver", title="Waiver of a whole engagement not stated",
        checks="A waiver without a subject says `scope: engagement`.",
        why="A waiver without a subject silences its rule for every service and person of "
            "the engagement, now and later; that must be meant, not an omission. Until it "
            "says so it waives nothing.",
        remediation="Limit the waiver to a staff or service id with `subject`, or state "
                    "`scope: engagement`.",
        references=_WAIVERS,
    ),
    CoreRule(
        id="KPO-WAI-006", category="waiver", title="Waiver runs too long",
        checks="A waiver's expiry is at most `max-waiver-days` after the run date, where "
               "the configuration sets that horizon.",
        why="An exception approved for years is a rule switched off; the horizon makes "
            "every waiver come back for review. Until it is shortened it waives nothing.",
        remediation="Set an earlier `expires` (and review the exception then).",
        references=_WAIVERS,
    ),
)


_BY_ID: dict[str, CoreRule] = {rule.id: rule for rule in CORE_RULES}


def core_finding(rule_id: str, *, message: str, file: str, line: int = 1, column: int = 1,
                 engagement: str | None = None, subject: Subject | None = None,
                 path: str = "", remediation: str | None = None,
                 severity: Severity | None = None, plugin: str | None = None) -> Finding:
    """A finding of a core rule: category, severity, fix and references come from the table
    above, so every place that reports one says the same; ``remediation`` may be more
    specific than the rule's general fix."""
    rule = _BY_ID[rule_id]
    return Finding(
        rule=rule_id, severity=severity or rule.severity, category=rule.category,
        message=message, file=file, line=line, column=column, engagement=engagement,
        subject=subject or Subject(), path=path,
        remediation=rule.remediation if remediation is None else remediation,
        references=rule.references, plugin=plugin,
    )


def rule_catalogue(plugin_rules: Iterable[Rule] = ()) -> Mapping[str, CoreRule | Rule]:
    """Every rule id of a run: the core's and the given plugin rules, by id."""
    rules: dict[str, CoreRule | Rule] = {rule.id: rule for rule in CORE_RULES}
    for rule in plugin_rules:
        rules.setdefault(rule.id, rule)
    return rules
