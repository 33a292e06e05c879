"""Sample data from the dashboard's empty state."""

from __future__ import annotations

from db.database import Database
from db.seed import seed_catalogue, seed_orders


def load_sample_data(db: Database, *, orders: int = 40) -> int:
    """Add the sample catalogue and `orders` made-up orders; return how many orders."""
    with db.writing() as session:
        seed_catalogue(session)
        session.commit()
    return seed_orders(db, orders, seed=None)
