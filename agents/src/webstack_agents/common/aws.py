"""AWS clients with botocore's standard retry mode (jittered backoff, throttling and 5xx retried)."""

from __future__ import annotations

import threading

import boto3
from botocore.config import Config

_LOCK = threading.Lock()
_SESSION = None


def client(
    service: str,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = 5,
    connect_timeout: float = 5,
    read_timeout: float = 60,
    max_pool_connections: int = 10,
):
    """Create a boto3 client; an empty endpoint lets botocore honour AWS_ENDPOINT_URL and the usual chain."""
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        region_name=region or None,
    )
    # One session per process (its loader caches the service models once); building clients is not
    # thread-safe, so it happens under a lock.
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client(service, endpoint_url=endpoint_url or None, config=config)
