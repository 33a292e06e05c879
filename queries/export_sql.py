"""The export's cells, formatted by the database exactly as the Python row builders would.

Formatting a million rows in Python costs several times the query; the database does it at
the speed of its own CSV writer. Each cell here must produce the same text as
queries.order_export's row builders put through safe_cell and csv.writer:

- text: NULL and '' as an empty cell, and a leading = + - @ tab or CR neutralised with ';
- money: integer cents as an exact decimal with two places (no floating point);
- times: the business zone's wall time and offset, as datetime.isoformat(timespec="seconds").
  The offsets come from Python's own zone data (see `zone_segments`), not the database's, so
  both databases agree with Python to the byte, DST edges included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from domain.cells import FORMULA_TRIGGERS
from domain.enums import Source
from domain.order import OrderStatus, PaymentStatus

# Code points of the characters safe_cell guards against: = + - @ tab CR.
FORMULA_CODES = ", ".join(str(ord(character)) for character in FORMULA_TRIGGERS)

# (kind of cell, SQL of its raw value) per column, in the order of the headers.
ORDER_CELLS = [
    ("text", "orders.number"),
    ("stamp", "orders.created_at"),
    ("status", "orders.status"),
    ("payment", "orders.payment_status"),
    ("source", "orders.source"),
    ("text", "orders.customer_first_name || ' ' || orders.customer_last_name"),
    ("text", "orders.customer_email"),
    ("text", "orders.customer_phone"),
    ("text", "orders.items_summary"),
    ("number", "orders.item_count"),
    ("money", "orders.subtotal_cents"),
    ("money", "orders.tax_cents"),
    ("money", "orders.shipping_cents"),
    ("money", "orders.total_cents"),
    ("text", "orders.currency"),
    ("text", "orders.ship_street"),
    ("text", "orders.ship_apartment"),
    ("text", "orders.ship_city"),
    ("text", "orders.ship_state"),
    ("text", "orders.ship_zip"),
    ("text", "orders.ship_country"),
    ("text", "orders.carrier"),
    ("text", "orders.tracking_number"),
    ("text", "orders.external_ref"),
]
ITEM_CELLS = [
    ("text", "orders.number"),
    ("stamp", "orders.created_at"),
    ("status", "orders.status"),
    ("text", "orders.customer_first_name || ' ' || orders.customer_last_name"),
    ("text", "orders.customer_email"),
    ("text", "order_items.sku"),
    ("text", "order_items.name"),
    ("number", "order_items.quantity"),
    ("money", "order_items.unit_price_cents"),
    ("money", "order_items.subtotal_cents"),
    ("money", "order_items.tax_cents"),
    ("money", "order_items.total_cents"),
    ("text", "orders.currency"),
]

STATUS_LABELS = {s.value: s.label for s in OrderStatus}
PAYMENT_LABELS = {p.value: p.label for p in PaymentStatus}
SOURCE_LABELS = {s.value: s.label for s in Source}
LABELS = {"status": STATUS_LABELS, "payment": PAYMENT_LABELS, "source": SOURCE_LABELS}


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one UTC offset: from `start` (None: the beginning of time)."""

    start: datetime | None
    offset_seconds: int
    suffix: str  # the offset as isoformat writes it, e.g. "-05:00"


def zone_segments(zone: tzinfo, first: datetime, last: datetime) -> list[Segment]:
    """The zone's offsets between two UTC moments, with the instants where they change.

    zoneinfo keeps its transitions private, so they are found by stepping six hours at a
    time and bisecting to the second where the offset differs (no zone changes its offset
    twice within six hours).
    """
    step = timedelta(hours=6)
    moment = first.replace(minute=0, second=0, microsecond=0)
    segments = [_segment(None, moment, zone)]
    while moment < last:
        following = moment + step
        if _offset(following, zone) != _offset(moment, zone):
            change = _bisect(moment, following, zone)
            segments.append(_segment(change, change, zone))
        moment = following
    return segments


def _offset(moment: datetime, zone: tzinfo) -> timedelta | None:
    return moment.astimezone(zone).utcoffset()


def _bisect(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The first whole second in (before, after] with the offset of `after`."""
    target = _offset(after, zone)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if _offset(middle, zone) == target:
            after = middle
        else:
            before = middle
    return after


def _segment(start: datetime | None, sample: datetime, zone: tzinfo) -> Segment:
    local = sample.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    suffix = local.isoformat(timespec="seconds")[19:]
    return Segment(start, int(offset.total_seconds()), suffix)


def cells_sql(cells: Sequence[tuple[str, str]], segments: list[Segment], *, sqlite: bool) -> str:
    """The select list that formats every cell."""
    return ",\n".join(_cell(kind, raw, segments, sqlite) for kind, raw in cells)


def _cell(kind: str, raw: str, segments: list[Segment], sqlite: bool) -> str:
    if kind == "text":
        return _text(raw, sqlite)
    if kind == "money":
        return _money(raw, sqlite)
    if kind == "stamp":
        return _stamp(raw, segments, sqlite)
    if kind in LABELS:  # status, payment, source: as the page shows them
        return _labels(raw, LABELS[kind])
    return raw  # numbers: csv.writer writes an integer as the database does


def _text(raw: str, sqlite: bool) -> str:
    if sqlite:
        # All six prefixes sort before 'A' byte-wise: one cheap comparison passes over most
        # text. (Not on PostgreSQL, whose collation may ignore punctuation.)
        formula = f"{raw} < 'A' AND unicode({raw}) IN ({FORMULA_CODES})"
        plain = raw
    else:
        # COPY writes '' as "" (to tell it from NULL), csv.writer as nothing: send NULL.
        formula = f"ascii({raw}) IN ({FORMULA_CODES})"
        plain = f"nullif({raw}, '')"
    return f"CASE WHEN {formula} THEN '''' || {raw} ELSE {plain} END"


def _money(raw: str, sqlite: bool) -> str:
    if sqlite:  # printf on integers: exact, where cents / 100.0 would round through a double
        return (
            f"CASE WHEN {raw} >= 0 THEN printf('%d.%02d', {raw} / 100, {raw} % 100) "
            f"ELSE printf('-%d.%02d', -{raw} / 100, -{raw} % 100) END"
        )
    return f"({raw}::numeric / 100)::numeric(30, 2)"


def _stamp(raw: str, segments: list[Segment], sqlite: bool) -> str:
    """Wall time in the segment's offset; the newest segments first, as most rows are."""
    branches = []
    for segment in reversed(segments):
        if sqlite:
            # The stored text without its fraction: SQLite rounds fractions to the
            # millisecond, isoformat(timespec="seconds") truncates them.
            local = (
                f"strftime('%Y-%m-%dT%H:%M:%S', substr({raw}, 1, 19), "
                f"'{segment.offset_seconds:+d} seconds')"
            )
            since = segment.start and f"'{segment.start.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"
        else:
            local = (
                f"to_char({raw} AT TIME ZONE 'UTC' + interval '{segment.offset_seconds} "
                "seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            )
            since = segment.start and f"'{segment.start.astimezone(UTC).isoformat()}'::timestamptz"
        value = f"{local} || '{segment.suffix}'"
        if since is None:
            branches.append(f"ELSE {value}")
        else:
            branches.append(f"WHEN {raw} >= {since} THEN {value}")
    if len(branches) == 1:
        return branches[0].removeprefix("ELSE ")
    return "CASE " + " ".join(branches) + " END"


def _labels(raw: str, labels: dict[str, str]) -> str:
    # Fixed labels from the domain, none of which a spreadsheet would run as a formula.
    whens = " ".join(
        f"WHEN {_quote(value)} THEN {_quote(label)}" for value, label in labels.items()
    )
    return f"CASE {raw} {whens} END"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
