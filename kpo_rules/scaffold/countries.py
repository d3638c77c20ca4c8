"""What a new country plugin's profile starts from: name, languages, time zone, regime.

Names and time zones come from the IANA tables that ``tzdata`` (a dependency) ships, so any
ISO 3166 code works; business languages are listed here for the countries a KPO plugin is
likely to be written for, and default to English (flagged for editing) elsewhere.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

from kpo_rules.errors import UsageError

#: EU member states plus Iceland, Liechtenstein and Norway: the EU GDPR applies (EEA Agreement).
EEA = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
))

#: Business languages (ISO 639-1), official language first.
LANGUAGES = {
    "AT": ["de"], "BE": ["nl", "fr", "de"], "BG": ["bg"], "HR": ["hr"], "CY": ["el", "tr"],
    "CZ": ["cs"], "DK": ["da"], "EE": ["et"], "FI": ["fi", "sv"], "FR": ["fr"], "DE": ["de"],
    "GR": ["el"], "HU": ["hu"], "IE": ["en", "ga"], "IT": ["it"], "LV": ["lv"], "LT": ["lt"],
    "LU": ["lb", "fr", "de"], "MT": ["mt", "en"], "NL": ["nl"], "PL": ["pl"], "PT": ["pt"],
    "RO": ["ro"], "SK": ["sk"], "SI": ["sl"], "ES": ["es"], "SE": ["sv"], "IS": ["is"],
    "LI": ["de"], "NO": ["no"], "CH": ["de", "fr", "it"], "GB": ["en"], "US": ["en"],
    "CA": ["en", "fr"], "AU": ["en"], "NZ": ["en"], "IN": ["en", "hi"], "PH": ["en", "tl"],
    "SG": ["en"], "JP": ["ja"], "KR": ["ko"], "CN": ["zh"], "HK": ["zh", "en"], "BR": ["pt"],
    "MX": ["es"], "AR": ["es"], "CL": ["es"], "CO": ["es"], "ZA": ["en"], "AE": ["ar", "en"],
    "IL": ["he"], "TR": ["tr"], "UA": ["uk"], "EG": ["ar"], "MY": ["ms", "en"], "ID": ["id"],
    "VN": ["vi"], "TH": ["th"], "NG": ["en"], "KE": ["en", "sw"],
}

#: English names of the languages above, for the prose of scaffolded rules.
LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish",
    "fr": "French", "ga": "Irish", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lb": "Luxembourgish", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay",
    "mt": "Maltese", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish", "sw": "Swahili",
    "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese",
    "zh": "Chinese",
}

#: Where the IANA table's name is built for sorting, not for a sentence.
NAMES = {
    "GB": "United Kingdom", "KR": "South Korea", "KP": "North Korea", "MM": "Myanmar",
    "SZ": "Eswatini", "CD": "Democratic Republic of the Congo", "CG": "Republic of the Congo",
    "AS": "American Samoa", "WS": "Samoa", "VG": "British Virgin Islands",
    "VI": "US Virgin Islands", "MF": "Saint Martin", "SX": "Sint Maarten",
}
#: Names that take "the" in a sentence.
THE = frozenset({"AE", "BS", "CD", "CF", "CG", "CZ", "DO", "FO", "GB", "GM", "KM", "KY", "MH",
                 "MV", "NL", "PH", "SB", "SC", "TC", "US", "VA", "VG", "VI"})

#: Where zone.tab's first zone of a country is not where most of its business is.
TIMEZONES = {
    "AU": "Australia/Sydney", "BR": "America/Sao_Paulo", "CA": "America/Toronto",
    "CL": "America/Santiago", "ES": "Europe/Madrid", "ID": "Asia/Jakarta",
    "MX": "America/Mexico_City", "MY": "Asia/Kuala_Lumpur", "PT": "Europe/Lisbon",
    "US": "America/New_York", "RU": "Europe/Moscow", "AR": "America/Argentina/Buenos_Aires",
    "UA": "Europe/Kyiv", "KZ": "Asia/Almaty", "CN": "Asia/Shanghai", "DE": "Europe/Berlin",
    "NZ": "Pacific/Auckland",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Country:
    """The facts a scaffolded profile starts from; the author checks and edits them."""

    code: str
    name: str
    prose: str  # the name in a sentence: "the Netherlands"
    languages: tuple[str, ...]
    languages_known: bool
    timezone: str
    eea: bool

    @property
    def regime(self) -> str:
        return "eu_gdpr" if self.eea else "uk_gdpr" if self.code == "GB" else "not_modelled"


def _table(name: str) -> list[list[str]]:
    text = (files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@functools.cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code (upper case), from the table ``tzdata`` ships."""
    return frozenset(row[0] for row in _table("iso3166.tab"))


def language_names(codes: list[str]) -> str:
    """``["nl", "en"]`` -> ``"Dutch or English"``."""
    names = [LANGUAGE_NAMES.get(code, code) for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def country(code: str) -> Country:
    """The starting facts of country ``code`` (ISO 3166-1 alpha-2, any case)."""
    code = code.upper()
    names = {row[0]: row[1] for row in _table("iso3166.tab")}
    if code not in names:
        raise UsageError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    zones = [row[2] for row in _table("zone.tab") if row[0] == code]
    timezone = TIMEZONES.get(code) or (zones[0] if zones else "UTC")
    languages = LANGUAGES.get(code)
    name = NAMES.get(code, names[code])
    return Country(code=code, name=name, prose=f"the {name}" if code in THE else name,
                   languages=tuple(languages or ["en"]),
                   languages_known=languages is not None, timezone=timezone, eea=code in EEA)
