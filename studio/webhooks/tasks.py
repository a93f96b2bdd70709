"""django-q2 entry points: ids in, one service call, nothing else."""

from studio.webhooks import deliveries


def send_callback(delivery_id: int) -> None:
    deliveries.callback_send(delivery_id=delivery_id)
