"""The Customers page in AppTest: search, history, edit with validation, merge."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Contact, Order, customer_code
from services import orders
from tests.builders import add_catalogue, order_data
from tests.ui.conftest import open_page


def run_page():
    at = open_page("customers").run()
    assert not at.exception
    return at


def place(db, email, first="Ada", last="Lovelace", phone="+14155552671"):
    customer = {"first_name": first, "last_name": last, "email": email, "phone": phone}
    return orders.create_order(db, order=order_data(customer=customer), actor="t")


def select_row(at, index):
    at.session_state["customers.table"] = {"selection": {"rows": [index], "columns": []}}
    return at.run()


def ids_by_email(db):
    with db.reading() as session:
        return dict(session.execute(select(Contact.email, Contact.id)).all())


def texts(elements):
    return [element.value for element in elements]


def test_with_no_customers_the_page_says_where_they_come_from(page_db):
    at = run_page()
    assert any("No customers yet" in text for text in texts(at.info))


def test_the_search_narrows_the_table(page_db):
    add_catalogue(page_db)
    place(page_db, "ada@example.com")
    place(page_db, "grace@example.com", first="Grace", last="Hopper", phone=None)
    at = run_page()
    assert at.dataframe[0].value["name"].tolist() == ["Grace Hopper", "Ada Lovelace"]
    at.text_input(key="customers.search").set_value("hopper").run()
    assert at.dataframe[0].value["email"].tolist() == ["grace@example.com"]
    at.text_input(key="customers.search").set_value("nobody").run()
    assert texts(at.info) == ["No customer matches “nobody”."]


def test_a_selected_customer_shows_their_orders_and_lifetime_value(page_db):
    add_catalogue(page_db)
    first = place(page_db, "ada@example.com")
    second = place(page_db, "ada@example.com")
    at = select_row(run_page(), 0)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Orders"] == "2"
    assert metrics["Lifetime value"] == "$61.96"  # 2 × (24.00 + 1.98 tax + 5.00 shipping)
    history = at.dataframe[1].value
    assert history["number"].tolist() == [f"./?order={second.number}", f"./?order={first.number}"]
    assert history["total"].tolist() == [30.98, 30.98]


def test_an_edit_with_a_bad_email_is_refused_and_a_good_one_is_saved(page_db):
    add_catalogue(page_db)
    place(page_db, "ada@example.com")
    contact = ids_by_email(page_db)["ada@example.com"]
    at = select_row(run_page(), 0)
    form = f"customers.edit.{contact}"
    at.text_input(key=f"{form}.email").set_value("ada at example")
    at.button(key="customers.save").click().run()
    assert at.error[0].value.startswith("Please check: **E-mail** is not a valid e-mail address")
    assert "ada@example.com" in ids_by_email(page_db)

    at.text_input(key=f"{form}.email").set_value("ada@new.example")
    at.text_input(key=f"{form}.phone").set_value("415 555 0199")
    at.radio(key=f"{form}.channel").set_value("sms")
    at.button(key="customers.save").click().run()
    assert texts(at.toast) == [f"Saved {customer_code(contact)} and 1 open order."]
    with page_db.reading() as session:
        saved = session.get(Contact, contact)
    assert (saved.email, saved.phone, saved.preferred_channel.value) == (
        "ada@new.example",
        "+14155550199",
        "sms",
    )


def test_merging_a_duplicate_keeps_every_order(page_db):
    add_catalogue(page_db)
    for _ in range(2):
        place(page_db, "ada@example.com")
    for _ in range(3):
        place(page_db, "a.lovelace@old.example")
    ids = ids_by_email(page_db)
    keep, duplicate = ids["ada@example.com"], ids["a.lovelace@old.example"]

    at = select_row(run_page(), 0)
    # Same name and phone: offered as a likely duplicate without searching.
    choice = at.selectbox(key="customers.merge_choice")
    assert choice.options == [
        f"{customer_code(duplicate)} · Ada Lovelace · a.lovelace@old.example · 3 orders"
    ]
    choice.set_value(duplicate).run()
    assert at.button(key="customers.merge").disabled
    at.checkbox(key="customers.merge_confirm").check().run()
    at.button(key="customers.merge").click().run()

    assert not at.exception
    assert texts(at.toast) == [
        f"Merged {customer_code(duplicate)} into {customer_code(keep)}: 3 orders moved."
    ]
    with page_db.reading() as session:
        owners = session.execute(select(Order.contact_id, func.count()).group_by(Order.contact_id))
        assert dict(owners.all()) == {keep: 5}
        assert session.get(Contact, duplicate).merged_into_id == keep
    assert {m.label: m.value for m in at.metric}["Orders"] == "5"
    assert at.dataframe[0].value["email"].tolist() == ["ada@example.com"]


def test_another_customer_can_be_found_to_merge_by_searching(page_db):
    add_catalogue(page_db)
    place(page_db, "ada@example.com")
    place(page_db, "countess@example.com", first="Augusta", last="King", phone=None)
    at = select_row(run_page(), 1)  # Ada Lovelace, after Augusta King
    assert "No likely duplicates" in at.caption[-1].value
    at.text_input(key="customers.merge_search").set_value("countess").run()
    assert len(at.selectbox(key="customers.merge_choice").options) == 1
