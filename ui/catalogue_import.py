"""The catalogue CSV import on the Products page: upload, a preview of what it would do, confirm.

Nothing is written until the confirm button; the file is then checked again as it is applied.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db.database import Database
from domain.order import OrderError
from services import catalogue
from services.catalogue import ImportPreview
from ui.auth import current_actor
from ui.display import csv_download, money_column, plural, units
from ui.flash import flash
from ui.format import literal

# Bumped after an import so the uploader comes back empty (a new key is a new widget).
UPLOADS = "products.uploads"


def render(db: Database, currency: str) -> None:
    st.subheader("Import")
    st.caption(
        "Rows are matched on SKU: new SKUs are added, known ones updated. Nothing is written "
        "until you confirm, and rows with errors are left out."
    )
    upload = st.file_uploader(
        "CSV file",
        type=["csv"],
        key=f"products.import_file.{st.session_state[UPLOADS]}",
    )
    if upload is not None:
        _preview(db, upload.getvalue(), currency)


def _preview(db: Database, data: bytes, currency: str) -> None:
    try:
        preview = catalogue.preview_import(db, data=data)
    except OrderError as exc:
        st.error(str(exc))
        return
    cols = st.columns(4)
    cols[0].metric("New products", preview.count("add"))
    cols[1].metric("Updates", preview.count("update"))
    cols[2].metric("Unchanged", preview.count("unchanged"))
    cols[3].metric("Rows with errors", len(preview.errors))
    if preview.errors:
        _errors(preview)
    if preview.new_categories:
        st.info(f"New categories will be created: {literal(', '.join(preview.new_categories))}.")
    if preview.ignored_columns:
        st.caption(f"Ignored columns: {literal(', '.join(preview.ignored_columns))}.")
    if not preview.to_write:
        st.info("Nothing to import: every valid row matches the catalogue already.")
        return
    _changes(preview, currency)
    _confirm(db, data, preview)


def _errors(preview: ImportPreview) -> None:
    st.markdown("**Rows with errors** — left out of the import")
    errors = pd.DataFrame(
        {
            "line": [e.line for e in preview.errors],
            "sku": [e.sku for e in preview.errors],
            "problem": [e.message for e in preview.errors],
        }
    )
    st.dataframe(
        errors,
        hide_index=True,
        key="products.import_error_table",
        column_config={
            "line": st.column_config.NumberColumn("Line", width="small"),
            "sku": st.column_config.TextColumn("SKU", width="small"),
            "problem": st.column_config.TextColumn("Problem", width="large"),
        },
    )
    st.caption("Fix them in the file and upload it again, or import the other rows now.")
    csv_download(
        errors,
        file_name="import-errors.csv",
        key="products.import_errors",
        label="Download the errors",
    )


def _changes(preview: ImportPreview, currency: str) -> None:
    st.markdown("**What the import will do**")
    st.dataframe(
        pd.DataFrame(
            {
                "line": [r.line for r in preview.to_write],
                "action": ["New" if r.action == "add" else "Update" for r in preview.to_write],
                "sku": [r.sku for r in preview.to_write],
                "name": [r.name for r in preview.to_write],
                "price": [units(r.price_cents) for r in preview.to_write],
                "changes": [r.changes for r in preview.to_write],
            }
        ),
        hide_index=True,
        key="products.import_preview",
        column_config={
            "line": st.column_config.NumberColumn("Line", width="small"),
            "action": st.column_config.TextColumn("Action", width="small"),
            "sku": st.column_config.TextColumn("SKU", width="small"),
            "name": st.column_config.TextColumn("Name"),
            "price": money_column("Price", currency, width="small"),
            "changes": st.column_config.TextColumn("Changes", width="large"),
        },
    )


def _confirm(db: Database, data: bytes, preview: ImportPreview) -> None:
    label = f"Import {plural(len(preview.to_write), 'product')}"
    if preview.errors:
        label += f", skip {plural(len(preview.errors), 'row')} with errors"
    if st.button(label, type="primary", key="products.import_confirm", icon=":material/upload:"):
        try:
            result = catalogue.apply_import(db, data=data, actor=current_actor())
        except OrderError as exc:
            st.error(str(exc))
            return
        st.session_state[UPLOADS] += 1
        flash(f"Imported the catalogue: {result.added} added, {result.updated} updated.")
        st.rerun()
