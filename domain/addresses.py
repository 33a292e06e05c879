"""A shipping address that a carrier will take: the state is one of the country's, the postal
code is in the country's format.

Both rules raise ValueError with the words a form shows under its field (and the API returns
as the field's problem); both return the value as it should be stored: the subdivision's
code ("Oregon", "or" → "OR"), the postal code in its usual spelling ("k1a0b1" → "K1A 0B1").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

import pycountry

MAX_STATE = 100
MAX_POSTAL_CODE = 16


def _fold(text: str) -> str:
    """Case, accents and spacing do not matter when a name is compared: "québec" = "Quebec"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """Every accepted spelling of the country's subdivisions (folded) → its code suffix."""
    found = pycountry.subdivisions.get(country_code=country) or []
    spellings: dict[str, str] = {}
    for subdivision in sorted(found, key=lambda s: s.code):
        suffix = subdivision.code.split("-", 1)[1]
        for spelling in (suffix, subdivision.code, subdivision.name):
            spellings.setdefault(_fold(spelling), suffix)
    return spellings


def _country_name(country: str) -> str:
    found = pycountry.countries.get(alpha_2=country)
    return getattr(found, "common_name", None) or (found.name if found else country)


@cache
def _first_subdivision(country: str) -> tuple[str, str] | None:
    """(code suffix, name) of the country's first subdivision by code, for examples."""
    found = sorted(pycountry.subdivisions.get(country_code=country) or [], key=lambda s: s.code)
    return (found[0].code.split("-", 1)[1], found[0].name) if found else None


def _example(country: str) -> str:
    first = _first_subdivision(country)
    return f"{first[0]} or {first[1]}" if first else ""


def normalise_state(country: str, value: str) -> str:
    """The state, province or region as the country's subdivision code ("Oregon" → "OR").

    A country pycountry knows no subdivisions of takes any name of up to 100 characters.
    """
    value = value.strip()
    if not value:
        raise ValueError("is required")
    spellings = _subdivisions(country.upper())
    if not spellings:
        if len(value) > MAX_STATE:
            raise ValueError(f"must be at most {MAX_STATE} characters")
        return value
    code = spellings.get(_fold(value))
    if code is None:
        raise ValueError(
            f"is not a state or province of {_country_name(country.upper())}: "
            f"give its code or its name (e.g. {_example(country.upper())})"
        )
    return code


# ---- postal codes ----


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


def _us(value: str) -> str | None:
    found = re.fullmatch(r"(\d{5})(?:\s*-?\s*(\d{4}))?", value.strip())
    if found is None:
        return None
    return "-".join(part for part in found.groups() if part)


# Letters Canada Post uses: never D, F, I, O, Q or U; W and Z never first.
_CA = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\d[ABCEGHJ-NPRSTV-Z]\d")


def _ca(value: str) -> str | None:
    code = _compact(value)
    return f"{code[:3]} {code[3:]}" if _CA.fullmatch(code) else None


# The UK's outward code (area + district) then the inward code (sector + unit).
_GB = re.compile(
    r"(GIR0AA|[A-PR-UWYZ](\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRVWXY])"
    r"\d[ABD-HJLNP-UW-Z]{2})"
)


def _gb(value: str) -> str | None:
    code = _compact(value)
    return f"{code[:-3]} {code[-3:]}" if _GB.fullmatch(code) else None


def _digits(count: int) -> Callable[[str], str | None]:
    def rule(value: str) -> str | None:
        code = value.strip()
        return code if re.fullmatch(rf"\d{{{count}}}", code) else None

    return rule


def _nl(value: str) -> str | None:
    code = _compact(value)
    return f"{code[:4]} {code[4:]}" if re.fullmatch(r"[1-9]\d{3}[A-Z]{2}", code) else None


# country → (rule, the format in words)
POSTAL_CODES: dict[str, tuple[Callable[[str], str | None], str]] = {
    "US": (_us, "5 digits or ZIP+4, e.g. 97205 or 97205-1234"),
    "CA": (_ca, "letter digit letter digit letter digit, e.g. K1A 0B1"),
    "GB": (_gb, "a UK postcode, e.g. SW1A 1AA"),
    "DE": (_digits(5), "5 digits, e.g. 10115"),
    "FR": (_digits(5), "5 digits, e.g. 75001"),
    "AU": (_digits(4), "4 digits, e.g. 2000"),
    "NL": (_nl, "4 digits and 2 letters, e.g. 1012 AB"),
}


def hints(country: str) -> tuple[str, str]:
    """(the state's, the postal code's) examples for a form's empty fields, in the
    country's own kind ("Code or name: ON, Ontario", "K1A 0B1")."""
    country = country.upper()
    first = _first_subdivision(country)
    state = f"Code or name: {first[0]}, {first[1]}" if first else ""
    known = POSTAL_CODES.get(country)
    postal = known[1].split("e.g. ", 1)[-1] if known else ""
    return state, postal


def normalise_postal_code(country: str, value: str) -> str:
    """The postal code in the country's format, as the country writes it."""
    value = value.strip()
    if not value:
        raise ValueError("is required")
    known = POSTAL_CODES.get(country.upper())
    if known is None:
        if len(value) > MAX_POSTAL_CODE:
            raise ValueError(f"must be at most {MAX_POSTAL_CODE} characters")
        return value
    rule, words = known
    code = rule(value)
    if code is None:
        raise ValueError(
            f"is not a valid postal code for {_country_name(country.upper())} ({words})"
        )
    return code
