"""The JSON Schemas (draft 2020-12) of the files users write (engagements and rosters).

Schemas are built as Python dicts so that the engagement and roster schemas share one
set of definitions (a roster's ``staff`` items are exactly an engagement's) and so that
every id pattern carries the human hint that :mod:`kpo_rules.load.validate` shows instead
of the regex. ``kpo-rules schema NAME`` prints them; ``schemas/NAME.schema.json`` are
checked-in copies for editors (a test fails when they drift).

Ids that plugins define (tasks, credentials, frameworks, countries) are checked here for
their *shape* only; whether a plugin knows them is a ``reference`` check.

Patterns are anchored with ``^...$`` and use only ASCII classes so that they mean the
same in an editor (ECMA-262) and in Python; the validator in
:mod:`kpo_rules.load.validate` makes ``$`` strict about a trailing newline as ECMA-262 is.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from kpo_rules.errors import UsageError

__all__ = [
    "API_VERSION",
    "KINDS",
    "PATTERN_HINTS",
    "SCHEMA_NAMES",
    "UnknownSchemaError",
    "cached_schema",
    "dump_schema",
    "get_schema",
    "schema_id",
]

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://kpo-rules.dev/schemas/v1/"
API_VERSION = "kpo-rules/v1"

#: Document kinds and the schema each is validated against.
KINDS: dict[str, str] = {"Engagement": "engagement", "Roster": "roster"}

#: Human form of every pattern used in the schemas, for messages:
#: "expected <hint>; found 'USA'". Keyed by the exact pattern string.
PATTERN_HINTS: dict[str, str] = {}


class UnknownSchemaError(UsageError, LookupError):
    """``get_schema`` was asked for a name no module registered."""


def schema_id(name: str) -> str:
    """The ``$id`` of schema ``name``, e.g. ``https://kpo-rules.dev/schemas/v1/roster.schema.json``."""
    return f"{ID_BASE}{name}.schema.json"


# --------------------------------------------------------------------------- building blocks


def _pattern(pattern: str, hint: str, description: str) -> Schema:
    PATTERN_HINTS[pattern] = hint
    return {"type": "string", "pattern": pattern, "description": description}


def _ref(name: str, description: str | None = None) -> Schema:
    # Siblings of $ref are allowed in 2020-12; the local description wins in editors.
    out: Schema = {"$ref": f"#/$defs/{name}"}
    if description:
        out["description"] = description
    return out


def _obj(
    description: str,
    properties: dict[str, Schema],
    required: tuple[str, ...] = (),
    **extra: Any,
) -> Schema:
    out: Schema = {"type": "object", "description": description}
    if required:
        out["required"] = list(required)
    out["properties"] = properties
    out["additionalProperties"] = False
    out.update(extra)
    return out


def _list(description: str, items: Schema, *, min_items: int = 0, **extra: Any) -> Schema:
    out: Schema = {"type": "array", "description": description, "items": items}
    if min_items:
        out["minItems"] = min_items
    out.update(extra)
    return out


def _text(description: str, *, non_empty: bool = False) -> Schema:
    out: Schema = {"type": "string", "description": description}
    if non_empty:
        out["minLength"] = 1
    return out


def _enum(description: str, values: tuple[str, ...]) -> Schema:
    return {"type": "string", "description": description, "enum": list(values)}


def _bool(description: str) -> Schema:
    return {"type": "boolean", "description": description}


# --------------------------------------------------------------------------- vocabularies

CLIENT_TYPES = (
    "corporate",
    "law_firm",
    "tax_practice",
    "audit_firm",
    "credit_institution",
    "investment_firm",
    "payment_institution",
    "insurer",
    "public_body",
)
RELATIONSHIPS = ("third_party", "captive")
DECISION_LEVELS = ("preparer", "reviewer", "decision_maker")
TRANSFER_MECHANISMS = ("adequacy", "scc", "idta", "bcr", "consent", "derogation", "none")
SAFEGUARDS = ("client_consent", "confidentiality_agreement", "secrecy_notice")
SIZE_CLASSES = ("small", "medium", "large")
EDUCATION_LEVELS = ("secondary", "bachelor", "master", "doctorate")
LANGUAGE_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Patterns: ASCII classes only, anchored, no lookaround (portable to ECMA-262).
DOC_ID = "^[a-z0-9][a-z0-9._-]*$"
LOCAL_ID = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
RULE_ID = "^[A-Za-z][A-Za-z0-9_.-]*$"
TASK_ID = "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$"
DOMAIN = "^[a-z][a-z0-9_]*$"
CREDENTIAL_ID = "^[a-z]{2,8}\\.[a-z0-9_]+$"
# Same shape as CREDENTIAL_ID, spelt "[.]" so that each keeps its own hint in PATTERN_HINTS.
FRAMEWORK_ID = "^[a-z]{2,8}[.][a-z0-9_]+$"
COUNTRY = "^[A-Z]{2}$"
SUBDIVISION = "^[A-Z]{2}-[A-Z0-9]{1,3}$"
REGION = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$"
LANGUAGE = "^[a-z]{2}$"
REGULATOR = "^[a-z][a-z0-9_]*$"
TIME = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
END_TIME = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
TIMEZONE = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$"

_PREFIXED = "(a 2-8 letter prefix, a dot, a lowercase name)"


def _defs() -> dict[str, Schema]:
    """Every definition either schema may use; each schema embeds those it reaches."""
    defs: dict[str, Schema] = {
        "documentId": _pattern(
            DOC_ID,
            "an id of lowercase letters, digits, '.', '_' or '-' such as 'acme-us-tax-fy2026'",
            "Document id, unique in a run: lowercase letters, digits, '.', '_', '-'.",
        ),
        "localId": _pattern(
            LOCAL_ID,
            "an id of letters, digits, '.', '_' or '-' such as 's-001'",
            "Id of a staff member, service or delivery centre: letters, digits, '.', '_', '-'.",
        ),
        "ruleId": _pattern(
            RULE_ID,
            "a rule id such as 'FIN-LANG-001'",
            "A rule id as `kpo-rules rules list` shows it, e.g. FIN-LANG-001.",
        ),
        "taskId": _pattern(
            TASK_ID,
            "a task id 'domain.name' such as 'finance.tax_preparation'",
            "A task from a domain plugin's catalogue: `domain.name`, e.g. finance.tax_preparation.",
        ),
        "credentialId": _pattern(
            CREDENTIAL_ID,
            f"a credential id such as 'us.cpa' {_PREFIXED}",
            "A credential id from a plugin catalogue, e.g. us.cpa, in.ca, de.stb.",
        ),
        "frameworkId": _pattern(
            FRAMEWORK_ID,
            f"a framework id such as 'us.gaap' {_PREFIXED}",
            "A regulatory framework id from a plugin, e.g. us.tax, us.gaap, intl.ifrs, eu.gdpr.",
        ),
        "countryCode": _pattern(
            COUNTRY,
            "an ISO 3166-1 alpha-2 code such as 'US'",
            "ISO 3166-1 alpha-2 country code, upper case, e.g. US, IN, DE.",
        ),
        "subdivisionCode": _pattern(
            SUBDIVISION,
            "an ISO 3166-2 subdivision code such as 'US-NY'",
            "ISO 3166-2 subdivision code, e.g. US-NY, IN-MH.",
        ),
        "regionCode": _pattern(
            REGION,
            "an ISO 3166-1 country code such as 'US' or an ISO 3166-2 subdivision code "
            "such as 'US-NY'",
            "A country (ISO 3166-1 alpha-2, e.g. US) or a subdivision (ISO 3166-2, e.g. US-NY).",
        ),
        "languageCode": _pattern(
            LANGUAGE,
            "an ISO 639-1 language code such as 'en'",
            "ISO 639-1 language code, lower case, e.g. en, de, hi.",
        ),
        "timezone": _pattern(
            TIMEZONE,
            "an IANA time zone such as 'America/New_York'",
            "IANA time zone name, e.g. America/New_York, Asia/Kolkata, UTC.",
        ),
        "time": _pattern(
            TIME,
            'a time HH:MM from 00:00 to 23:59 (quoted, e.g. "09:00")',
            "Local time HH:MM, 24-hour clock, 00:00 to 23:59.",
        ),
        "endTime": _pattern(
            END_TIME,
            'a time HH:MM from 00:00 to 23:59, or 24:00 (quoted, e.g. "17:00")',
            "Local end time HH:MM, 00:00 to 23:59, or 24:00 for midnight at the end of the day.",
        ),
        "date": {
            "type": "string",
            "format": "date",
            "description": "A calendar date YYYY-MM-DD.",
        },
        "day": _enum("Day of the week.", DAYS),
        "days": _list("Days of the week.", _ref("day"), min_items=1),
        "metadata": _obj(
            "Identifies the document.",
            {
                "id": _ref("documentId", "Unique in a run; [a-z0-9][a-z0-9._-]*."),
                "title": _text("A human title."),
                "labels": {
                    "type": "object",
                    "description": "Free key/value labels (strings), e.g. {team: tax}.",
                    "propertyNames": {"type": "string"},
                    "additionalProperties": _text("Label value."),
                },
            },
            required=("id",),
        ),
        "location": _obj(
            "Where the staff member works.",
            {
                "country": _ref("countryCode", "Country the staff member works in."),
                "subdivision": _ref("subdivisionCode", "Optional ISO 3166-2 subdivision."),
                "timezone": _ref(
                    "timezone",
                    "IANA zone of working_hours; default: the one zone of the subdivision or "
                    "country where it has only one, else the delivery centre's zone when the "
                    "staff member works in the centre's country; otherwise availability "
                    "cannot be judged.",
                ),
            },
            required=("country",),
        ),
        "workingHours": _obj(
            "A shift in the staff member's own time zone. A shift whose end is not after "
            "its start ends the next day.",
            {
                "start": _ref("time", "Shift start, local time HH:MM."),
                "end": _ref("endTime", "Shift end, local time HH:MM."),
                "days": _ref("days", "Days on which a shift starts; default mon-fri.")
                | {"default": list(DAYS[:5])},
            },
            required=("start", "end"),
        ),
        "education": _obj(
            "A completed degree or school level.",
            {
                "level": _enum("secondary | bachelor | master | doctorate.", EDUCATION_LEVELS),
                "field": _text(
                    "Field of study (ISCED-F name such as accounting, finance, law, business)."
                ),
            },
            required=("level",),
        ),
        "credential": _obj(
            "A professional credential (licence, admission, membership).",
            {
                "id": _ref("credentialId", "Credential id from a plugin catalogue."),
                "valid_until": _ref("date", "Last day the credential is valid; absent: no expiry."),
                "jurisdiction": _ref(
                    "regionCode", "Where the admission applies, when it is regional (e.g. US-NY)."
                ),
                "number": _text("Licence or membership number."),
                "language": _ref(
                    "languageCode",
                    "The language the credential proves, where it proves one per holder "
                    "(the language a court interpreter is sworn for).",
                ),
            },
            required=("id",),
        ),
        "language": _obj(
            "A language the staff member speaks.",
            {
                "code": _ref("languageCode", "ISO 639-1 code."),
                "level": _enum("CEFR level A1..C2, or native.", LANGUAGE_LEVELS),
            },
            required=("code", "level"),
        ),
        "staffMember": _obj(
            "A staff member who may be assigned to services.",
            {
                "id": _ref("localId", "Staff id; roster ids are global to a run."),
                "name": _text("Full name."),
                "role": _text(
                    "Free text, e.g. tax_associate; lawyer, paralegal matter to legal rules."
                ),
                "location": _ref("location"),
                "working_hours": _ref("workingHours"),
                "education": _list("Degrees held.", _ref("education")),
                "credentials": _list("Professional credentials.", _ref("credential")),
                "languages": _list("Languages spoken.", _ref("language"), min_items=1),
                "familiar_with": _list(
                    "Regulatory frameworks the staff member knows, e.g. us.tax, us.gaap.",
                    _ref("frameworkId"),
                ),
                "software": _list("Software the staff member knows.", _text("Software id.")),
            },
            required=("id", "location", "languages"),
        ),
        "staffList": _list("Staff members.", _ref("staffMember")),
    }
    return defs


def _engagement_parts() -> dict[str, Schema]:
    """Definitions only the engagement schema uses."""
    return {
        "period": _obj(
            "The dates that rules, credentials and adequacy are judged at.",
            {"start": _ref("date", "First day."), "end": _ref("date", "Last day.")},
            required=("start", "end"),
        ),
        "businessHours": _obj(
            "The client's business hours in its own time zone.",
            {
                "start": _ref("time", "Opening time HH:MM."),
                "end": _ref("endTime", "Closing time HH:MM."),
                "days": _ref("days", "Working days."),
            },
            required=("start", "end", "days"),
        ),
        "client": _obj(
            "The company whose work is outsourced.",
            {
                "name": _text("Legal name.", non_empty=True),
                "type": _enum("Kind of client; regulated types have extra rules.", CLIENT_TYPES),
                "country": _ref("countryCode", "Client country; a country plugin must exist."),
                "subdivision": _ref("subdivisionCode", "Optional ISO 3166-2 subdivision."),
                "languages": _list(
                    "Business languages; default: the country profile's.",
                    _ref("languageCode"),
                    min_items=1,
                ),
                "timezone": _ref("timezone", "IANA zone; default: the country profile's."),
                "business_hours": _ref("businessHours"),
                "regulators": _list(
                    "Supervisors whose outsourcing rules apply to the client, e.g. rbi, sebi "
                    "(lower case); rules for a regulator's entities judge only clients that "
                    "name it.",
                    _pattern(
                        REGULATOR,
                        "a regulator id of lowercase letters, digits and '_' such as 'rbi'",
                        "A regulator id, e.g. rbi, sebi, bafin, fca.",
                    ),
                    min_items=1,
                ),
                "size_class": _enum(
                    "small | medium | large: the client's size class under its country's "
                    "accounting law (e.g. HGB §267), which decides statutory-audit "
                    "eligibility.",
                    SIZE_CLASSES,
                ),
            },
            required=("name", "type", "country"),
        ),
        "deliveryCentre": _obj(
            "A site where the provider does the work.",
            {
                "id": _ref("localId", "Centre id, named by services[].delivery_centre."),
                "country": _ref("countryCode", "Country of the centre."),
                "subdivision": _ref("subdivisionCode", "Optional ISO 3166-2 subdivision."),
                "timezone": _ref(
                    "timezone",
                    "IANA zone of the centre; default: the one zone of its subdivision or "
                    "country where it has only one.",
                ),
            },
            required=("id", "country"),
        ),
        "provider": _obj(
            "Who does the work.",
            {
                "name": _text("Legal name.", non_empty=True),
                "relationship": _enum(
                    "third_party, or captive (the client's own unit elsewhere).", RELATIONSHIPS
                ),
                "serves": {
                    "type": "object",
                    "description": "Countries or subdivisions the provider serves, per domain "
                    "(e.g. finance: [US, GB], legal: [US-NY]).",
                    "propertyNames": _ref("domainName"),
                    "additionalProperties": _list(
                        "Countries (US) or subdivisions (US-NY) served in this domain.",
                        _ref("regionCode"),
                    ),
                },
                "delivery_centres": _list(
                    "The provider's delivery centres.", _ref("deliveryCentre"), min_items=1
                ),
            },
            required=("name", "serves", "delivery_centres"),
        ),
        "domainName": _pattern(
            DOMAIN,
            "a domain name of lowercase letters, digits and '_' such as 'finance'",
            "A domain plugin's name, e.g. finance, legal.",
        ),
        "data": _obj(
            "The data the service handles.",
            {
                "personal_data": _bool("Whether personal data is processed."),
                "categories": _list(
                    "Data categories, e.g. tax_return_information, payroll, health.",
                    _text("Data category."),
                ),
                "transfer_mechanism": _enum(
                    "GDPR/UK GDPR basis of a transfer abroad.", TRANSFER_MECHANISMS
                ),
            },
        ),
        "outsourcing": _obj(
            "Outsourcing conditions; read for regulated clients.",
            {
                "critical": _bool("A critical or important function."),
                "audit_rights": _bool("The client and its regulator have audit rights."),
                "exit_plan": _bool("An exit plan exists."),
                "regulator_notified": _bool("The regulator was notified."),
            },
        ),
        "service": _obj(
            "One piece of outsourced work.",
            {
                "id": _ref("localId", "Service id."),
                "task": _ref("taskId"),
                "delivery_centre": _ref("localId", "Id of one of provider.delivery_centres."),
                "language": _ref(
                    "languageCode", "Working language; default: the client's first language."
                ),
                "decision_level": _enum("preparer | reviewer | decision_maker.", DECISION_LEVELS),
                "software": _list(
                    "Tools the work needs; staff must know them.", _text("Software id.")
                ),
                "hours_overlap": {
                    "type": "number",
                    "description": "Required hours of overlap with client business hours.",
                    "minimum": 0,
                    "maximum": 24,
                    "default": 0,
                },
                "data": _ref("data"),
                "safeguards": _list("Safeguards in place.", _enum("A safeguard.", SAFEGUARDS)),
                "outsourcing": _ref("outsourcing"),
                "assignees": _list(
                    "Ids of the staff who do the work (inline or roster).",
                    _ref("localId"),
                    min_items=1,
                ),
                "supervisor": _ref(
                    "localId",
                    "Id of the supervising staff member, e.g. an attorney admitted in the "
                    "client's jurisdiction.",
                ),
            },
            required=("id", "task", "delivery_centre", "assignees"),
        ),
        "waiver": _obj(
            "An approved exception to a rule.",
            {
                "rule": _ref("ruleId", "The rule id waived."),
                "subject": _ref(
                    "localId", "Staff or service id the waiver is limited to; without one, "
                    "'scope: engagement' must say that the whole engagement is meant."
                ),
                "scope": _enum(
                    "'engagement': the waiver silences the rule for the whole engagement "
                    "(stated explicitly, since that hides the most).", ("engagement",)
                ),
                "reason": _text("Why the exception is acceptable.", non_empty=True),
                "approved_by": _text("Who approved it.", non_empty=True),
                "expires": _ref(
                    "date", "Last day the waiver applies (judged against the run date)."
                ),
            },
            required=("rule", "reason", "approved_by", "expires"),
        ),
    }


def _envelope(kind: str) -> dict[str, Schema]:
    return {
        "apiVersion": {"const": API_VERSION, "description": "Always kpo-rules/v1."},
        "kind": {
            "const": kind,
            "description": f"Always {kind} in this schema; other kinds have their own.",
        },
        "metadata": _ref("metadata"),
    }


def _reachable(root: Schema, defs: dict[str, Schema]) -> dict[str, Schema]:
    """The definitions ``root`` refers to, transitively, in ``defs`` order."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in found:
                    found.add(name)
                    walk(defs[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(root)
    return {name: schema for name, schema in defs.items() if name in found}


def _document(name: str, title: str, description: str, body: Schema) -> Schema:
    defs = _defs() | _engagement_parts()
    out: Schema = {
        "$schema": DIALECT,
        "$id": schema_id(name),
        "title": title,
        "description": description,
    }
    out.update(body)
    out["$defs"] = _reachable(body, defs)
    return out


def _engagement() -> Schema:
    return _document(
        "engagement",
        "kpo-rules engagement",
        "One KPO engagement: who serves which client with what (kind: Engagement). "
        "Unknown fields are errors.",
        _obj(
            "An engagement document.",
            _envelope("Engagement")
            | {
                "period": _ref("period"),
                "client": _ref("client"),
                "provider": _ref("provider"),
                "services": _list("The outsourced services.", _ref("service")),
                "staff": _ref(
                    "staffList", "Staff local to this engagement; roster staff are not repeated."
                ),
                "waivers": _list("Approved exceptions to rules.", _ref("waiver")),
            },
            required=("apiVersion", "kind", "metadata", "period", "client", "provider"),
        ),
    )


def _roster() -> Schema:
    return _document(
        "roster",
        "kpo-rules roster",
        "Staff shared by many engagements (kind: Roster). Staff ids are global to a run.",
        _obj(
            "A roster document.",
            _envelope("Roster")
            | {
                "staff": _ref("staffList", "The staff of this roster.") | {"minItems": 1},
            },
            required=("apiVersion", "kind", "metadata", "staff"),
        ),
    )


# --------------------------------------------------------------------------- registry


def _lazy(module: str, function: str, name: str) -> Callable[[], Schema]:
    """A builder that imports ``module`` only when schema ``name`` is first asked for.

    Other modules own their schemas as ``function(schema_id) -> dict``; importing them
    lazily keeps this package free of import cycles and of their start-up cost.
    """

    def build() -> Schema:
        builder: Callable[[str], Schema] = getattr(importlib.import_module(module), function)
        return builder(schema_id(name))

    return build


_CATALOGUE = "kpo_rules.schemas.catalogue"

# Name -> builder. Modules that own a schema register it here (lazily, see ``_lazy``).
_BUILDERS: dict[str, Callable[[], Schema]] = {
    "engagement": _engagement,
    "roster": _roster,
    "rule": _lazy("kpo_rules.schemas.rule", "rule_schema", "rule"),
    "country": _lazy(_CATALOGUE, "country_schema", "country"),
    "tasks": _lazy(_CATALOGUE, "tasks_schema", "tasks"),
    "credentials": _lazy(_CATALOGUE, "credentials_schema", "credentials"),
    "frameworks": _lazy(_CATALOGUE, "frameworks_schema", "frameworks"),
    "regime": _lazy(_CATALOGUE, "regime_schema", "regime"),
    "config": _lazy("kpo_rules.config", "config_schema", "config"),
    "staffing": _lazy("kpo_rules.staffing.schema", "staffing_schema", "staffing"),
}

#: Names ``get_schema`` accepts, in the order ``kpo-rules schema`` lists them.
SCHEMA_NAMES: tuple[str, ...] = tuple(_BUILDERS)


@cache
def _built(name: str) -> Schema:
    builder = _BUILDERS.get(name)
    if builder is None:
        known = ", ".join(SCHEMA_NAMES)
        raise UnknownSchemaError(f"unknown schema '{name}'; choose from {known}")
    return builder()


def get_schema(name: str) -> Schema:
    """The JSON Schema ``name`` as a fresh dict (callers may change it freely).

    :raises UnknownSchemaError: ``name`` is not in :data:`SCHEMA_NAMES`.
    """
    return copy.deepcopy(_built(name))


def cached_schema(name: str) -> Schema:
    """The shared, built-once schema ``name``; treat it as read-only."""
    return _built(name)


def dump_schema(name: str) -> str:
    """Schema ``name`` as the text of ``schemas/NAME.schema.json`` (what the CLI prints)."""
    return json.dumps(_built(name), indent=2, ensure_ascii=False) + "\n"


# Build ours at import so PATTERN_HINTS is complete before any message is written.
_built("engagement")
_built("roster")
