import uuid
from typing import Literal

from . import Message, Receipt, logger


class DryRunProvider:
    dry_run = True

    def __init__(self, channel: Literal["email", "sms"]) -> None:
        self.channel: str = channel

    def send(self, message: Message) -> Receipt:
        provider_id = f"dry-run-{uuid.uuid4().hex[:12]}"
        logger.info(
            "[dry-run] would send %s to %s subject=%r reference=%r text=%r attachments=%r (id %s)",
            message.channel,
            message.to,
            message.subject,
            message.reference,
            message.text,
            [attached.filename for attached in message.attachments],
            provider_id,
        )
        return Receipt("dry_run", provider_id=provider_id)
