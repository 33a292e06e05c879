"""Cells a spreadsheet would run as formulas are defused, and only those."""

import csv
import io

import pytest

from domain.cells import csv_text, safe_cell, unsafe_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text
    assert unsafe_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["Earl Grey", "", "a=b", -5, 12.5, None])
def test_everything_else_is_left_as_it_is(value):
    assert safe_cell(value) == value


def test_a_quote_that_protects_nothing_is_kept_on_the_way_back():
    assert unsafe_cell("'quoted") == "'quoted"


def test_csv_text_writes_missing_values_as_empty_cells_and_defuses_every_cell():
    text = csv_text(["name", "=total"], [["=cmd|'/c calc'!A0", None], ["ok", float("nan")]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "'=total"],
        ["'=cmd|'/c calc'!A0", ""],
        ["ok", ""],
    ]
