"""Drawing packing slips and invoices as PDF pages with fpdf2.

Plain data in (`queries/documents.py`), bytes out; nothing here reads the database. Text is
set in DejaVu Sans with Droid Sans Fallback for the scripts DejaVu lacks (Chinese,
Japanese, Korean), both shipped in `assets/fonts/` and embedded as subsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import TTFFont

from domain.money import format_money
from domain.order import OrderStatus, PaymentStatus
from domain.settings import BusinessSettings, bp_to_percent

if TYPE_CHECKING:
    from queries.documents import DocumentOrder

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT = "dejavu"
FALLBACK = "droid"
LETTER_COUNTRIES = {"US", "CA", "MX", "PH", "CL", "CO", "VE"}
CODE39 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
BAR = 0.9  # mm, the wide bars of the order number's Code 39 barcode
GREY = (110, 110, 110)
RED = (190, 30, 30)
BLACK = (0, 0, 0)


class Document(FPDF):
    """A page per order, the business's fonts loaded once for the whole file."""

    def __init__(self, settings: BusinessSettings, title: str, texts: Iterable[str]) -> None:
        letter = settings.default_country.upper() in LETTER_COUNTRIES
        super().__init__(format="letter" if letter else "A4", unit="mm")
        self.settings = settings
        self.zone: ZoneInfo = settings.zone
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        # The fallback costs more to load than the pages take to draw: only when needed.
        covered = cast(TTFFont, self.fonts[FONT]).cmap
        everything = "".join((settings.business_name, settings.seller_address, *texts))
        if any(ord(char) not in covered for char in set(everything) if char.isprintable()):
            self.add_font(FALLBACK, "", FONTS / "DroidSansFallback.ttf")
            self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.set_title(f"{title} — {settings.business_name}")
        self.set_author(settings.business_name)
        self.set_creator("Product Orders")

    def text_style(self, size: float, bold: bool = False, colour: tuple[int, int, int] = BLACK):
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)

    def line_of(self, text: str, size: float = 10, bold: bool = False, **kw: object) -> None:
        self.text_style(size, bold, kw.pop("colour", BLACK))  # type: ignore[arg-type]
        self.cell(0, size * 0.45, fit(self, text, self.epw), new_x="LMARGIN", new_y="NEXT")

    def day(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).strftime("%d %b %Y") if moment else "—"

    def footer(self) -> None:
        self.set_y(-12)
        self.text_style(8, colour=GREY)
        self.cell(0, 4, f"Page {self.page_no()}", align="C")


def texts_of(orders: Sequence[DocumentOrder], *more: str) -> Iterator[str]:
    """Every text the documents print that comes from people rather than from us."""
    yield from more
    for o in orders:
        yield from (o.number, o.customer_name, o.email, o.phone or "", o.cancel_reason or "")
        yield from o.address_lines
        for line in o.lines:
            yield line.sku
            yield line.name


def fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` on one line of `width`, cut with an ellipsis if it does not fit."""
    text = " ".join(text.split())
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _seller(pdf: Document, width: float) -> None:
    settings = pdf.settings
    pdf.text_style(15, bold=True)
    pdf.cell(width, 7, fit(pdf, settings.business_name, width), new_x="LMARGIN", new_y="NEXT")
    pdf.text_style(9, colour=GREY)
    for line in settings.seller_address.splitlines():
        if line.strip():
            pdf.cell(width, 4.2, fit(pdf, line, width), new_x="LMARGIN", new_y="NEXT")


def _title_block(pdf: Document, title: str, facts: list[tuple[str, str]], top: float) -> float:
    """The document's name and its facts at the top right; returns where it ends."""
    width = 70
    x = pdf.w - pdf.r_margin - width
    pdf.set_xy(x, top)
    pdf.text_style(18, bold=True)
    pdf.cell(width, 8, title, align="R", new_x="LEFT", new_y="NEXT")
    for label, value in facts:
        pdf.set_x(x)
        pdf.text_style(9, colour=GREY)
        pdf.cell(28, 5, label, align="R")
        pdf.text_style(9, bold=True)
        pdf.cell(width - 28, 5, fit(pdf, value, width - 30), align="R", new_x="LEFT", new_y="NEXT")
        pdf.set_x(x)
    return pdf.get_y()


def _address_block(pdf: Document, heading: str, order: DocumentOrder, email: bool) -> None:
    pdf.ln(4)
    pdf.text_style(8, bold=True, colour=GREY)
    pdf.cell(0, 4, heading.upper(), new_x="LMARGIN", new_y="NEXT")
    pdf.line_of(order.customer_name, 11, bold=True)
    for line in order.address_lines:
        pdf.line_of(line, 10)
    contact = [order.email] if email else []
    if order.phone:
        contact.append(order.phone)
    if contact:
        pdf.line_of(" · ".join(contact), 9, colour=GREY)


def _banner(pdf: Document, text: str) -> None:
    pdf.ln(3)
    pdf.set_draw_color(*RED)
    pdf.text_style(11, bold=True, colour=RED)
    pdf.multi_cell(0, 6, text, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*BLACK)


def _table_head(pdf: Document, columns: Sequence[tuple[str, float, str]]) -> None:
    pdf.ln(5)
    pdf.text_style(8, bold=True, colour=GREY)
    for label, width, align in columns:
        pdf.cell(width, 6, label.upper(), align=align)
    pdf.ln(6)
    pdf.set_draw_color(*GREY)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(*BLACK)


def _rule(pdf: Document) -> None:
    pdf.set_draw_color(220, 220, 220)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(*BLACK)


# ---- packing slips ----


def packing_slips(settings: BusinessSettings, orders: Sequence[DocumentOrder]) -> bytes:
    title = "Packing slips" if len(orders) != 1 else "Packing slip"
    pdf = Document(settings, title, texts_of(orders))
    for order in orders:
        _packing_slip(pdf, order)
    if not orders:
        pdf.add_page()
        pdf.line_of("No orders.")
    return bytes(pdf.output())


def _packing_slip(pdf: Document, order: DocumentOrder) -> None:
    pdf.add_page()
    top = pdf.get_y()
    _seller(pdf, pdf.epw - 75)
    if pdf.settings.seller_address.strip():
        pdf.text_style(7, colour=GREY)
        pdf.cell(0, 4, "Return address", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    facts = [("Order", order.number), ("Order date", pdf.day(order.created_at))]
    right_end = _title_block(pdf, "PACKING SLIP", facts, top)
    code = f"*{order.number.upper()}*"
    if set(code) <= CODE39 | {"*"}:
        # Wide bars 0.9 mm, narrow 0.3 mm: 16/3 wide bars' width a character.
        width = len(code) * BAR * 16 / 3
        pdf.set_fill_color(*BLACK)
        pdf.code39(code, pdf.w - pdf.r_margin - width, right_end + 3, BAR, 12)
        right_end += 17
    pdf.set_y(max(left_end, right_end))
    if order.status is OrderStatus.CANCELLED:
        _banner(pdf, "CANCELLED — do not ship")
    _address_block(pdf, "Ship to", order, email=False)

    box, qty = 10.0, 20.0
    sku = 45.0
    name = pdf.epw - box - sku - qty
    _table_head(pdf, [("✓", box, "C"), ("SKU", sku, "L"), ("Item", name, "L"), ("Qty", qty, "R")])
    units = 0
    for line in order.lines:
        if pdf.will_page_break(8):
            pdf.add_page()
        y = pdf.get_y()
        pdf.rect(pdf.l_margin + 2.5, y + 2, 4.5, 4.5)
        pdf.set_x(pdf.l_margin + box)
        pdf.text_style(10, bold=True)
        pdf.cell(sku, 8.5, fit(pdf, line.sku, sku - 2))
        pdf.text_style(10)
        pdf.cell(name, 8.5, fit(pdf, line.name, name - 2))
        pdf.text_style(12, bold=True)
        pdf.cell(qty, 8.5, str(line.quantity), align="R", new_x="LMARGIN", new_y="NEXT")
        _rule(pdf)
        units += line.quantity
    pdf.ln(3)
    count = len(order.lines)
    pdf.line_of(
        f"{count} line{'s' if count != 1 else ''} · {units} unit{'s' if units != 1 else ''}",
        9,
        colour=GREY,
    )


# ---- invoices ----


def invoices(settings: BusinessSettings, orders: Sequence[DocumentOrder]) -> bytes:
    title = "Invoices" if len(orders) != 1 else "Invoice"
    pdf = Document(settings, title, texts_of(orders, settings.tax_id))
    for order in orders:
        _invoice(pdf, order)
    if not orders:
        pdf.add_page()
        pdf.line_of("No invoices.")
    return bytes(pdf.output())


def void_notice(order: DocumentOrder) -> str | None:
    """What the invoice must say about an order that will not be, or was not, paid for."""
    if order.status is OrderStatus.CANCELLED:
        reason = f": {order.cancel_reason}" if order.cancel_reason else ""
        if order.payment_status is PaymentStatus.REFUNDED:
            return f"ORDER CANCELLED AND REFUNDED — nothing is due{reason}"
        if order.payment_status is PaymentStatus.PAID:
            return f"ORDER CANCELLED — paid, refund outstanding{reason}"
        return f"ORDER CANCELLED — nothing is due{reason}"
    if order.payment_status is PaymentStatus.REFUNDED:
        return "REFUNDED — the amount below was paid back in full"
    return None


def _invoice(pdf: Document, order: DocumentOrder) -> None:
    settings = pdf.settings
    pdf.add_page()
    top = pdf.get_y()
    _seller(pdf, pdf.epw - 75)
    if settings.tax_id.strip():
        pdf.text_style(9, colour=GREY)
        pdf.cell(0, 4.2, f"Tax ID: {settings.tax_id}", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    facts = [
        ("Invoice", order.invoice_number or "—"),
        ("Issue date", pdf.day(order.invoice_issued_at)),
        ("Order", order.number),
        ("Order date", pdf.day(order.created_at)),
        ("Payment", order.payment_status.label),
    ]
    right_end = _title_block(pdf, "INVOICE", facts, top)
    pdf.set_y(max(left_end, right_end))
    notice = void_notice(order)
    if notice:
        _banner(pdf, notice)
    _address_block(pdf, "Bill to", order, email=True)

    def money(cents: int) -> str:
        return format_money(cents, order.currency)

    sku, qty, unit, total = 35.0, 15.0, 30.0, 30.0
    name = pdf.epw - sku - qty - unit - total
    _table_head(
        pdf,
        [("SKU", sku, "L"), ("Item", name, "L"), ("Qty", qty, "R"), ("Unit price", unit, "R"),
         ("Line total", total, "R")],
    )  # fmt: skip
    for line in order.lines:
        if pdf.will_page_break(7):
            pdf.add_page()
        pdf.text_style(9)
        pdf.cell(sku, 7, fit(pdf, line.sku, sku - 2))
        pdf.text_style(10)
        pdf.cell(name, 7, fit(pdf, line.name, name - 2))
        pdf.cell(qty, 7, str(line.quantity), align="R")
        pdf.cell(unit, 7, money(line.unit_price_cents), align="R")
        pdf.cell(total, 7, money(line.subtotal_cents), align="R", new_x="LMARGIN", new_y="NEXT")
        _rule(pdf)

    pdf.ln(3)
    rows = [
        ("Subtotal", money(order.subtotal_cents), False),
        (f"Tax ({bp_to_percent(order.tax_rate_bp)} %)", money(order.tax_cents), False),
        ("Shipping", money(order.shipping_cents), False),
        (f"Total ({order.currency})", money(order.total_cents), True),
    ]
    label_x = pdf.w - pdf.r_margin - 90
    for label, value, strong in rows:
        if pdf.will_page_break(7):
            pdf.add_page()
        pdf.set_x(label_x)
        pdf.text_style(11 if strong else 10, bold=strong)
        pdf.cell(60, 6.5, label, align="R")
        pdf.cell(30, 6.5, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.line_of(f"Payment status: {order.payment_status.label}", 10, bold=True)
    pdf.line_of(f"All amounts in {order.currency}.", 9, colour=GREY)
