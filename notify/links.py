"""The customer's status link: `{base}/o/{token}`, the token signed so it cannot be guessed.

The token names the order by its id and nothing else — no name, no e-mail, no order
number — signed with ORDER_LINK_SECRET (itsdangerous, salt "order-link"). Knowing an order
number gives no way to its link, and a new secret turns every link given out into a 404.
"""

from __future__ import annotations

from itsdangerous import BadData, URLSafeSerializer

SALT = "order-link"
PATH = "/o/"


class OrderLinks:
    """Signs order ids into status links and reads them back; built by the composition root."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._serializer = URLSafeSerializer(secret, salt=SALT)

    def token_for(self, order_id: int) -> str:
        return str(self._serializer.dumps(order_id))

    def url_for(self, order_id: int) -> str:
        return f"{self.base_url}{PATH}{self.token_for(order_id)}"

    def order_id_of(self, token: str) -> int | None:
        """The order a token names, or None when it is tampered with, foreign or malformed."""
        try:
            value = self._serializer.loads(token)
        except (BadData, UnicodeError, ValueError):
            return None
        # bool is an int too; only a plain positive id names an order.
        if type(value) is not int or value < 1:
            return None
        return value
