"""For tests that start real Celery workers on the shared Redis: leave nothing of a run's own queue behind."""

import os


def forget_queue(queue: str) -> None:
    """Delete what this run's queue left in Redis: its list and exchange binding, and a killed worker's
    unacknowledged message (which Redis would otherwise hand back to that queue after the visibility timeout)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
        for tag, payload in client.hgetall("unacked").items():
            if queue.encode() in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()
