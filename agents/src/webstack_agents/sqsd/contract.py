"""The sqsd HTTP contract: how one SQS message becomes one POST to the local application.

Pure functions, no I/O, so every header rule is unit-tested on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from webstack_agents import __version__

LOG = logging.getLogger(__name__)

USER_AGENT = f"aws-sqsd/{__version__}"
ATTR_PREFIX = "beanstalk.sqsd."
PATH_ATTR = "beanstalk.sqsd.path"
TASK_NAME_ATTR = "beanstalk.sqsd.task_name"
SCHEDULED_TIME_ATTR = "beanstalk.sqsd.scheduled_time"
PERIODIC_BODY = "elasticbeanstalk scheduled job"

_FORBIDDEN = {chr(code) for code in range(32) if code != 9} | {"\x7f"}


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: list[tuple[str, bytes]]


def iso8601(epoch_ms: str | int | float | None) -> str:
    """Epoch milliseconds as UTC ISO-8601 with a Z, the way sqsd writes timestamps."""
    try:
        seconds = float(epoch_ms) / 1000.0
    except (TypeError, ValueError):
        seconds = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def iso8601_seconds(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _header_value(value: str) -> bytes | None:
    # Header values may not carry CR, LF or other control characters (header injection); UTF-8 otherwise.
    if any(ch in _FORBIDDEN for ch in value):
        return None
    return value.encode("utf-8")


def string_attribute(message: dict, name: str) -> str | None:
    attribute = (message.get("MessageAttributes") or {}).get(name)
    if not attribute:
        return None
    if attribute.get("DataType", "").split(".", 1)[0] in ("String", "Number"):
        return attribute.get("StringValue")
    return None


def build_request(message: dict, queue_name: str, default_path: str, mime_type: str) -> Request:
    """Map a received message (with All system and message attributes) to the POST sqsd makes."""
    attrs = message.get("Attributes") or {}
    first = attrs.get("ApproximateFirstReceiveTimestamp") or attrs.get("SentTimestamp")
    headers: list[tuple[str, bytes]] = [
        ("User-Agent", USER_AGENT.encode()),
        ("Content-Type", mime_type.encode("utf-8")),
        ("X-Aws-Sqsd-Msgid", message["MessageId"].encode()),
        ("X-Aws-Sqsd-Queue", queue_name.encode("utf-8")),
        ("X-Aws-Sqsd-First-Received-At", iso8601(first).encode()),
        ("X-Aws-Sqsd-Receive-Count", str(attrs.get("ApproximateReceiveCount", "1")).encode()),
        ("X-Aws-Sqsd-Sender-Id", str(attrs.get("SenderId", "")).encode("utf-8")),
    ]
    task_name = string_attribute(message, TASK_NAME_ATTR)
    if task_name is not None:
        headers.append(("X-Aws-Sqsd-Taskname", task_name.encode("utf-8")))
        scheduled = string_attribute(message, SCHEDULED_TIME_ATTR) or ""
        headers.append(("X-Aws-Sqsd-Scheduled-At", scheduled.encode("utf-8")))
    for name, attribute in sorted((message.get("MessageAttributes") or {}).items()):
        if name.startswith(ATTR_PREFIX):
            continue
        kind = attribute.get("DataType", "").split(".", 1)[0]
        if kind not in ("String", "Number"):
            continue  # Binary attributes are not passed to the application.
        value = _header_value(attribute.get("StringValue", ""))
        if value is None or any(ch in _FORBIDDEN or ch in " :" for ch in name):
            LOG.warning("attribute not passed: control characters", extra={"message_id": message["MessageId"]})
            continue
        headers.append((f"X-Aws-Sqsd-Attr-{name}", value))
    path = string_attribute(message, PATH_ATTR) or default_path
    if not path.startswith("/"):
        path = "/" + path
    body = b"" if task_name is not None else message.get("Body", "").encode("utf-8")
    return Request(path=path, body=body, headers=headers)
