"""What a new or edited order must look like, shared by the dashboard, the API and the seed.

Pydantic does the checking; `parse()` turns its report into plain field errors that the
dashboard shows beside its inputs and the API returns as a problem document.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from domain.addresses import MAX_POSTAL_CODE, normalise_postal_code, normalise_state
from domain.money import MAX_LINES, MAX_QUANTITY, format_money, parse_money
from domain.order import OrderError

M = TypeVar("M", bound=BaseModel)

Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Required100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

# Characters that show nothing: format characters (zero-width space, joiners, BOM, word
# joiner, …) plus the blank fillers and selectors Unicode files elsewhere.
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
# Embeddings, overrides and isolates: they reorder what follows ("\u202egnp.exe").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def is_invisible(char: str) -> bool:
    return (
        char.isspace()
        or char in _INVISIBLE_EXTRA
        or unicodedata.category(char) == "Cf"
        or 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
        or 0xE0000 <= ord(char) <= 0xE007F  # tag characters
    )


def _one_line(value: str) -> str:
    """A name or address line: something visible, on one line, in the order it was typed."""
    if any(char in LINE_BREAKS for char in value):
        raise ValueError("must be on one line (no line breaks)")
    if any(char in BIDI_CONTROLS for char in value):
        raise ValueError("must not contain text-direction controls (U+202A–U+202E, U+2066–U+2069)")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not contain control characters")
    if value and all(is_invisible(char) for char in value):
        raise ValueError("must contain visible text (it holds only invisible characters)")
    return value


def _line(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


OneLine = AfterValidator(_one_line)
Name = Annotated[str, _line(1, 100), OneLine]
Line100 = Annotated[str, _line(0, 100), OneLine]
Line200 = Annotated[str, _line(1, 200), OneLine]
RequiredLine100 = Annotated[str, _line(1, 100), OneLine]
Zip = Annotated[str, _line(1, MAX_POSTAL_CODE), OneLine]
MAX_MONEY_CENTS = 100_000_000  # $1,000,000.00: anything above is a typo in this shop


def _cents(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("is required")
        value = parse_money(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("cannot be negative")
        if value > MAX_MONEY_CENTS:
            raise ValueError(f"must be at most {format_money(MAX_MONEY_CENTS)}")
    return value


# An amount typed as text ("12.50", "$1,234") or given as cents; cents once validated.
Money = Annotated[int, BeforeValidator(_cents)]


NUL_MESSAGE = "must not contain a NUL character (\\x00)"
NOT_UNICODE_MESSAGE = "must be valid Unicode text (it holds a lone surrogate)"


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored as it is, on either database; None when it can.

    PostgreSQL text cannot hold NUL (SQLite can), and neither can store a lone surrogate
    (JSON's "\\ud800" decodes to one), since both keep UTF-8.
    """
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return NOT_UNICODE_MESSAGE
    return None


def unstorable(value: Any) -> str | None:
    """A string's problem, or a list of strings'; nested models check their own fields."""
    if isinstance(value, list | tuple | set):
        value = [item for item in value if isinstance(item, str)]
        return next(filter(None, map(text_problem, value)), None)
    return text_problem(value) if isinstance(value, str) else None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # Checked here, for every field of every input model, so both databases behave the
        # same: a clear field error instead of one database storing what the other refuses.
        problem = unstorable(value)
        if problem:
            raise ValueError(problem)
        return value


class CustomerIn(Strict):
    first_name: Name
    last_name: Name
    email: Annotated[str, StringConstraints(max_length=254)]
    phone: str | None = None
    preferred_channel: Literal["email", "sms"] = "email"

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        region = (info.context or {}).get("region", "US")
        return normalise_phone(value, region)


class ItemIn(Strict):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    # Strict: true, "3" and 2.0 are not quantities (lax mode would store 1, 3 and 2).
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY)


def _iso_country(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"is not an ISO 3166 country code ({value})")
    return value


Country = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(_iso_country),
]


class ShippingIn(Strict):
    street: Line200
    apartment: Line100 | None = None
    city: RequiredLine100
    # Before the state and the ZIP code: their rules are the country's. None means the shop's
    # default country (the `region` the input is parsed with).
    country: Country | None = None
    state: RequiredLine100
    zip: Zip

    @field_validator("state")
    @classmethod
    def _state(cls, value: str, info: ValidationInfo) -> str:
        country = _country_of(info)
        return value if country is None else normalise_state(country, value)

    @field_validator("zip")
    @classmethod
    def _zip(cls, value: str, info: ValidationInfo) -> str:
        country = _country_of(info)
        return value if country is None else normalise_postal_code(country, value)


def _country_of(info: ValidationInfo) -> str | None:
    """The address's country, or None when the country given is itself wrong (its own error
    says so; the state and ZIP code are then not judged by a country that is not there)."""
    if "country" not in info.data:
        return None
    return str(info.data["country"] or (info.context or {}).get("region") or "US").upper()


class OrderIn(Strict):
    customer: CustomerIn
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_LINES)
    shipping: ShippingIn
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None
    conversation_ref: Annotated[str, StringConstraints(max_length=255)] | None = None


def normalise_email(value: str) -> str:
    if not value.strip():
        raise ValueError("is required")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid e-mail address ({str(exc).rstrip('.')})") from None


def normalise_phone(value: str | None, region: str = "US") -> str | None:
    """A valid number in E.164 (+14155552671); blank means no phone."""
    if value is None or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    if number.extension:
        # E.164 has no room for it and a text message cannot dial it: refuse, never drop it.
        raise ValueError(
            f"has an extension (ext. {number.extension}); give a number without one, "
            "one a text message can reach"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_texts(subject: str, **fields: tuple[str, int]) -> None:
    """Free text that goes straight to the database: NUL-free and within its column's size.

    `fields` maps a field name to (value, limit); every problem is reported at once.
    """
    errors = []
    for name, (value, limit) in fields.items():
        problem = text_problem(value)
        if problem:
            errors.append(FieldError(name, problem))
        elif len(value) > limit:
            errors.append(FieldError(name, f"must be at most {limit:,} characters"))
    if errors:
        raise InvalidInput(errors, subject=subject)


def is_web_address(value: str) -> bool:
    """An http(s) link with a host: never javascript:, data: or a bare path."""
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class InvalidInput(OrderError):
    """Input that cannot be stored; `errors` says which field and why, in plain words."""

    def __init__(self, errors: list[FieldError], *, subject: str = "the order") -> None:
        self.errors = errors
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        super().__init__(f"Please correct {subject}: {summary}")

    def for_field(self, field: str) -> str | None:
        return next((e.message for e in self.errors if e.field == field), None)


def parse(model: type[M], data: Any, *, region: str = "US", subject: str = "the order") -> M:
    try:
        return model.model_validate(data, context={"region": region})
    except ValidationError as exc:
        raise InvalidInput([_field_error(e) for e in exc.errors()], subject=subject) from None


def _field_error(error: Any) -> FieldError:
    loc = error.get("loc", ())
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return FieldError(path or "body", _plain(error))


def _plain(error: Any) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx", {}) or {}
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return "is required" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le'):,}"
    if kind == "too_short":
        return "must have at least one item"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} entries"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "must be a whole number (a JSON integer such as 3)"
    if kind == "string_pattern_mismatch":
        return "must be a two-letter country code"
    return str(error.get("msg", "is not valid"))
