"""The sqsd HTTP contract: how one SQS message becomes one POST to the local application.

Pure functions, no I/O, so every header rule is unit-tested on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from webstack_agents import __version__

LOG = logging.getLogger(__name__)

USER_AGENT = f"aws-sqsd/{__version__}"
ATTR_PREFIX = "beanstalk.sqsd."
PATH_ATTR = "beanstalk.sqsd.path"
TASK_NAME_ATTR = "beanstalk.sqsd.task_name"
SCHEDULED_TIME_ATTR = "beanstalk.sqsd.scheduled_time"
PERIODIC_BODY = "elasticbeanstalk scheduled job"

_FORBIDDEN = {chr(code) for code in range(32) if code != 9} | {"\x7f"}
# Characters a request path may carry as they are; anything else (spaces, control characters, non-ASCII) is
# percent-encoded as UTF-8, so any path attribute makes a valid request line.
_PATH_SAFE = "/?&=%:@!$'()*+,;~-._"


class BadMessage(ValueError):
    """A message no valid request can be made of (a task name or system attribute with control characters):
    it is not posted, and comes back after ErrorVisibilityTimeout until the dead-letter queue takes it."""


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
    # Header values may not carry CR, LF or other control characters (header injection); UTF-8 otherwise
    # (surrogateescape: a value decoded from arbitrary bytes goes out as those bytes).
    if not isinstance(value, str) or any(ch in _FORBIDDEN for ch in value):
        return None
    return _utf8(value)


def _utf8(value: str) -> bytes | None:
    """UTF-8, with undecodable bytes kept as they came (surrogateescape); None for text no bytes stand for
    (a lone surrogate, which SQS itself never delivers)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def _required_header(name: str, value, message: dict) -> tuple[str, bytes]:
    encoded = _header_value(str(value))
    if encoded is None:
        raise BadMessage(f"{name} has control characters; message {message.get('MessageId')!r} is not posted")
    return name, encoded


def request_path(path: str) -> str:
    """The path attribute as a valid request target: a leading '/', and what may not appear raw encoded."""
    if not path.startswith("/"):
        path = "/" + path
    encoded = _utf8(path)
    if encoded is None:
        raise BadMessage("the path attribute is not text")
    return quote(encoded, safe=_PATH_SAFE)


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
        _required_header("Content-Type", mime_type, message),
        _required_header("X-Aws-Sqsd-Msgid", message["MessageId"], message),
        _required_header("X-Aws-Sqsd-Queue", queue_name, message),
        ("X-Aws-Sqsd-First-Received-At", iso8601(first).encode()),
        _required_header("X-Aws-Sqsd-Receive-Count", attrs.get("ApproximateReceiveCount", "1"), message),
        _required_header("X-Aws-Sqsd-Sender-Id", attrs.get("SenderId", ""), message),
    ]
    task_name = string_attribute(message, TASK_NAME_ATTR)
    if task_name is not None:
        headers.append(_required_header("X-Aws-Sqsd-Taskname", task_name, message))
        scheduled = string_attribute(message, SCHEDULED_TIME_ATTR) or ""
        headers.append(_required_header("X-Aws-Sqsd-Scheduled-At", scheduled, message))
    for name, attribute in sorted((message.get("MessageAttributes") or {}).items()):
        if name.startswith(ATTR_PREFIX):
            continue
        kind = attribute.get("DataType", "").split(".", 1)[0]
        if kind not in ("String", "Number"):
            continue  # Binary attributes are not passed to the application.
        value = _header_value(attribute.get("StringValue", ""))
        if value is None or not name.isascii() or any(ch in _FORBIDDEN or ch in " :" for ch in name):
            LOG.warning("attribute not passed: control characters", extra={"message_id": message["MessageId"]})
            continue
        headers.append((f"X-Aws-Sqsd-Attr-{name}", value))
    path = request_path(string_attribute(message, PATH_ATTR) or default_path)
    body = b"" if task_name is not None else _utf8(str(message.get("Body", "")))
    if body is None:
        raise BadMessage(f"the body of message {message.get('MessageId')!r} is not text")
    return Request(path=path, body=body, headers=headers)
