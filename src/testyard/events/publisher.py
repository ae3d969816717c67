"""Publishing run events after the transaction that stored them has committed."""

from __future__ import annotations

from testyard.events.bus import EventBus, Message, project_channel, run_channel


class RunEvents:
    """The one way run events reach subscribers: the run's channel, and the status
    changes on its project's channel."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def publish(self, run_id: int, messages: list[Message]) -> None:
        if messages:
            self.bus.publish_many(run_channel(run_id), messages)

    def publish_status(self, project_id: int, message: Message) -> None:
        self.bus.publish(project_channel(project_id), message)
