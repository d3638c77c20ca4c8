"""JSON Schemas of the catalogue files plugins ship: tasks, country profiles,
credentials, frameworks and shared regimes (EU GDPR, UK GDPR).

One schema per kind, so ``kpo-rules schema country`` and ``kpo-rules schema
tasks`` give plugin authors exactly the form they write.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
COUNTRY = "^[A-Z]{2}$"
SUBDIVISION = "^[A-Z]{2}-[A-Z0-9]{1,3}$"
ZONE = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$"
REGION = "^[A-Z]{2}(-[A-Z0-9]{1,3})?$"
TASK = "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$"
QUALIFIED_ID = "^[a-z]{2,8}\\.[a-z0-9_]+$"
LANGUAGE = "^[a-z]{2}$"
TIME = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
CEFR = ["A1", "A2", "B1", "B2", "C1", "C2", "native"]
EDUCATION = ["secondary", "bachelor", "master", "doctorate"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

#: Catalogue kind -> schema name.
KIND_SCHEMAS = {
    "TaskCatalogue": "tasks",
    "CountryProfile": "country",
    "CredentialCatalogue": "credentials",
    "FrameworkCatalogue": "frameworks",
    "Regime": "regime",
}


def _text(description: str) -> Schema:
    return {"type": "string", "minLength": 1, "description": description}


def _refs() -> Schema:
    return {
        "type": "array",
        "items": _text(
            "A citation (statute + section, regulator guidance with date) or 'practice: ...'."
        ),
    }


def _obj(properties: Schema, required: tuple[str, ...] = (), description: str = "") -> Schema:
    out: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    return out


def _list(items: Schema, description: str, min_items: int = 0) -> Schema:
    out: Schema = {"type": "array", "items": items, "description": description}
    if min_items:
        out["minItems"] = min_items
    return out


def _document(
    name: str, kind: str, title: str, body: Schema, required: tuple[str, ...], schema_id: str
) -> Schema:
    properties = {
        "apiVersion": {"const": "kpo-rules/v1"},
        "kind": {"const": kind},
        "metadata": _obj(
            {
                "id": _text("Catalogue id."),
                "title": _text("Title."),
                "as_of": DATE | {"description": "Date the facts were checked."},
            },
            ("id",),
        ),
    } | body
    return {
        "$schema": DIALECT,
        "$id": schema_id,
        "title": title,
        **_obj(properties, ("apiVersion", "kind", "metadata", *required)),
    }


def tasks_schema(schema_id: str) -> Schema:
    task = _obj(
        {
            "id": {"type": "string", "pattern": TASK, "description": "domain.name"},
            "title": _text("What the task is."),
            "description": _text("Longer description."),
            "education": _obj(
                {
                    "level": {"enum": EDUCATION},
                    "fields": _list(
                        _text("ISCED-F field name, e.g. accounting."),
                        "Accepted fields of study (case-insensitive).",
                    ),
                },
                ("level",),
                "Minimum education of each assignee.",
            ),
            "language_level": {"enum": CEFR, "description": "Working-language level needed."},
            "framework": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "description": "Framework kind each assignee must know in the "
                "client's country: gaap, tax, law, "
                "regulatory_reporting (-> cc.KIND).",
            },
            "supervision": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]*$",
                "description": "Which supervision regime applies, a name the domain's rules "
                "match (the legal plugin uses 'legal'); 'none' or absent for none.",
            },
            "mechanical": {
                "type": "boolean",
                "description": "Mechanical work the law leaves open to all.",
            },
            "references": _refs(),
        },
        ("id", "title", "language_level"),
    )
    return _document(
        "tasks",
        "TaskCatalogue",
        "kpo-rules task catalogue",
        {"tasks": _list(task, "The tasks of a domain.", 1)},
        ("tasks",),
        schema_id,
    )


def country_schema(schema_id: str) -> Schema:
    hours = _obj(
        {
            "start": {"type": "string", "pattern": TIME},
            "end": {"type": "string", "pattern": TIME},
            "days": _list({"enum": DAYS}, "Working days.", 1),
            "source": _text("Where the convention comes from, or 'convention'."),
        },
        ("start", "end", "days"),
    )
    reserved = _obj(
        {
            "task": {"type": "string", "pattern": TASK},
            "credentials": _list(
                {"type": "string", "pattern": QUALIFIED_ID},
                "Any one of these credentials permits the task.",
                1,
            ),
            "except_relationship": {
                "enum": ["captive", "third_party"],
                "description": "The reservation does not apply to this provider relationship.",
            },
            "references": _refs(),
        },
        ("task", "credentials", "references"),
        "A task the country reserves to holders of a credential.",
    )
    body = {
        "country": {"type": "string", "pattern": COUNTRY},
        "name": _text("Country name."),
        "profile": {
            "enum": ["full", "basic"],
            "description": "full: rules can judge everything; basic: languages, time "
            "zone, business hours and data-transfer status only.",
        },
        "languages": _list(
            {"type": "string", "pattern": LANGUAGE}, "Business languages, first is the default.", 1
        ),
        "timezone": _text("Default IANA zone of clients in this country."),
        "timezones": _list(
            {"type": "string", "pattern": ZONE},
            "Every IANA zone of the country (IANA zone.tab). A country with exactly one is "
            "the zone of staff and centres located there that state none; absent: the "
            "IANA zone.tab decides.",
            1,
        ),
        "subdivision_timezones": {
            "type": "object",
            "description": "The one IANA zone of subdivisions that have only one, for staff "
            "and centres located there that state none (e.g. US-NY: America/New_York).",
            "propertyNames": {"pattern": SUBDIVISION},
            "additionalProperties": {"type": "string", "pattern": ZONE},
        },
        "business_hours": hours,
        "eea": {"type": "boolean", "description": "EU/EEA member (EU GDPR applies)."},
        "data_protection": _obj(
            {"regime": _text("Regime id, e.g. eu_gdpr, uk_gdpr."), "references": _refs()},
            ("regime",),
        ),
        "frameworks": _list(
            {"type": "string", "pattern": QUALIFIED_ID}, "Framework ids of this country."
        ),
        "reserved": _list(reserved, "Reserved activities."),
        "references": _refs(),
    }
    return _document(
        "country",
        "CountryProfile",
        "kpo-rules country profile",
        body,
        ("country", "name", "profile", "languages", "timezone"),
        schema_id,
    )


def credentials_schema(schema_id: str) -> Schema:
    credential = _obj(
        {
            "id": {"type": "string", "pattern": QUALIFIED_ID},
            "name": _text("Name of the credential."),
            "country": {"type": "string", "pattern": COUNTRY},
            "domain": _text("Domain, e.g. finance, legal."),
            "regional": {
                "type": "boolean",
                "description": "Admission is per subdivision: holders state a jurisdiction.",
            },
            "requires_valid_until": {"type": "boolean"},
            "proves_language_level": {"enum": CEFR},
            "proves_language": {
                "type": "string",
                "pattern": LANGUAGE,
                "description": "The language the credential proves at proves_language_level "
                "(ISO 639-1); absent: the language the holder's entry names (an "
                "interpreter's).",
            },
            "professional": {
                "type": "boolean",
                "default": True,
                "description": "A professional qualification of its domain (a licence or "
                "membership that stands for the domain's judgement, such as CPA, CA, StB, "
                "attorney), which counts for decision-makers; false for identifying numbers "
                "and clerical or language credentials (PTIN, bookkeeper, court reporter).",
            },
            "subdivisions": _list(
                {"type": "string", "pattern": SUBDIVISION},
                "The subdivisions of its country the admission covers, where it covers only "
                "some (a solicitor of England and Wales: GB-ENG, GB-WLS); absent: all.",
                1,
            ),
            "references": _refs(),
        },
        ("id", "name", "country", "domain"),
    )
    return _document(
        "credentials",
        "CredentialCatalogue",
        "kpo-rules credential catalogue",
        {"credentials": _list(credential, "Credentials.", 1)},
        ("credentials",),
        schema_id,
    )


def frameworks_schema(schema_id: str) -> Schema:
    framework = _obj(
        {
            "id": {"type": "string", "pattern": QUALIFIED_ID},
            "name": _text("Name."),
            "references": _refs(),
        },
        ("id", "name"),
    )
    return _document(
        "frameworks",
        "FrameworkCatalogue",
        "kpo-rules framework catalogue",
        {"frameworks": _list(framework, "Frameworks.", 1)},
        ("frameworks",),
        schema_id,
    )


def regime_schema(schema_id: str) -> Schema:
    adequacy = _obj(
        {
            "country": {"type": "string", "pattern": COUNTRY},
            "scope": {
                "enum": ["full", "certified"],
                "description": "certified: covers only certified recipients (EU-US DPF, PIPEDA).",
            },
            "from": DATE,
            "until": DATE,
            "references": _refs(),
        },
        ("country", "scope"),
    )
    body = {
        "regime": _text("Regime id, e.g. eu_gdpr."),
        "name": _text("Name."),
        "members": _list(
            {"type": "string", "pattern": COUNTRY}, "Countries where the regime applies."
        ),
        "adequacy": _list(adequacy, "Adequacy decisions of the regime."),
        "references": _refs(),
    }
    return _document(
        "regime",
        "Regime",
        "kpo-rules data-transfer regime",
        body,
        ("regime", "name", "members"),
        schema_id,
    )
