"""The daemon's options: Elastic Beanstalk's ``aws:elasticbeanstalk:sqsd`` names, defaults and ranges, plus ours.

Each option can be set in the configuration file (top level, or under ``aws:elasticbeanstalk:sqsd`` /
``webstack:sqsd``) or with the environment variable ``WEBSTACK_SQSD_<UPPER_SNAKE_NAME>``; the environment wins.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webstack_agents.common import config as cfg

ENV_PREFIX = "WEBSTACK_SQSD_"
NAMESPACES = ("aws:elasticbeanstalk:sqsd", "webstack:sqsd")


def _env_name(option: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", option)
    return ENV_PREFIX + snake.upper()


def _opt(name, kind, default=None, minimum=None, maximum=None, required=False, help="", choices=None):
    return cfg.Option(name, kind, default, minimum, maximum, required, _env_name(name), help, choices)


# Elastic Beanstalk's worker options (namespace aws:elasticbeanstalk:sqsd), with its defaults and valid ranges.
EB_OPTIONS = [
    _opt("WorkerQueueURL", "url", required=True, help="URL of the queue to read work from"),
    _opt("HttpPath", "str", "/", help="path on the local application that messages are POSTed to"),
    _opt("MimeType", "str", "application/json", help="Content-Type of the POST"),
    _opt("HttpConnections", "int", 50, 1, 100, help="maximum concurrent POSTs to the application"),
    _opt("ConnectTimeout", "int", 5, 1, 60, help="seconds to wait for a connection to the application"),
    _opt("InactivityTimeout", "int", 299, 1, 36000, help="seconds to wait for the application to answer"),
    _opt("VisibilityTimeout", "int", 300, 0, 43200, help="seconds a received message stays invisible"),
    _opt("ErrorVisibilityTimeout", "int", 2, 0, 43200, help="seconds before a failed message is visible again"),
    _opt("RetentionPeriod", "int", 345600, 60, 1209600, help="seconds after which a message is discarded unposted"),
    _opt("MaxRetries", "int", 10, 1, 100, help="attempts before the queue's redrive policy dead-letters it"),
]

# webstack's own options.
EXTRA_OPTIONS = [
    _opt("Port", "int", 80, 1, 65535, help="local application port"),
    _opt("Host", "str", "localhost", help="local application host"),
    _opt("HealthUrl", "str", "", help="path (or http URL) that must answer 200 before any message is posted"),
    _opt("HealthCheckInterval", "float", 1.0, 0.05, 300, help="seconds between health probes while waiting"),
    _opt("CronFile", "str", "", help="path of cron.yaml with periodic tasks (absent file: no tasks)"),
    _opt("LeaderTable", "str", "", help="DynamoDB table used to elect the instance that enqueues periodic tasks"),
    _opt("LeaderLeaseSeconds", "float", 30.0, 1, 3600, help="leadership lease; renewed every third of it"),
    _opt("SchedulerInterval", "float", 1.0, 0.01, 60, help="seconds between periodic-task checks"),
    _opt("MissedTickWindow", "int", 300, 60, 3600, help="a missed periodic tick younger than this is still sent"),
    _opt("MetricsNamespace", "str", "", help="CloudWatch namespace for the daemon's metrics (empty: none)"),
    _opt("MetricsInterval", "float", 60.0, 0.1, 3600, help="seconds between PutMetricData batches"),
    _opt("StatusFile", "str", "", help="path of the JSON status file (empty: none)"),
    _opt("StatusInterval", "float", 5.0, 0.1, 3600, help="seconds between status file updates"),
    _opt("WaitTimeSeconds", "int", 20, 0, 20, help="long-poll wait of each ReceiveMessage"),
    _opt("ReceiverThreads", "int", 0, 0, 10, help="concurrent long-polls (0: one per 50 HttpConnections)"),
    _opt("DrainTimeout", "float", 30.0, 0, 36000, help="on SIGTERM, seconds to let in-flight POSTs finish"),
    _opt("InstanceId", "str", "", help="identity in logs, metrics and leader election (default: this host)"),
    _opt("Region", "str", "", help="AWS region (default: the usual botocore chain)"),
    _opt("EndpointUrl", "str", "", help="AWS endpoint override (default: AWS_ENDPOINT_URL / real AWS)"),
    _opt("AwsMaxAttempts", "int", 5, 1, 20, help="botocore standard-mode attempts per AWS call"),
    _opt(
        "LogLevel", "str", "info", help="debug, info, warning or error", choices=("debug", "info", "warning", "error")
    ),
]

OPTIONS = EB_OPTIONS + EXTRA_OPTIONS
DEFAULT_CONFIG_FILE = "/etc/webstack/sqsd.yaml"


@dataclass(frozen=True)
class SqsdConfig:
    worker_queue_url: str
    http_path: str = "/"
    mime_type: str = "application/json"
    http_connections: int = 50
    connect_timeout: int = 5
    inactivity_timeout: int = 299
    visibility_timeout: int = 300
    error_visibility_timeout: int = 2
    retention_period: int = 345600
    max_retries: int = 10
    port: int = 80
    host: str = "localhost"
    health_url: str = ""
    health_check_interval: float = 1.0
    cron_file: str = ""
    leader_table: str = ""
    leader_lease_seconds: float = 30.0
    scheduler_interval: float = 1.0
    missed_tick_window: int = 300
    metrics_namespace: str = ""
    metrics_interval: float = 60.0
    status_file: str = ""
    status_interval: float = 5.0
    wait_time_seconds: int = 20
    receiver_threads: int = 0
    drain_timeout: float = 30.0
    instance_id: str = ""
    region: str = ""
    endpoint_url: str = ""
    aws_max_attempts: int = 5
    log_level: str = "info"

    @property
    def queue_name(self) -> str:
        return urlsplit(self.worker_queue_url).path.rstrip("/").rsplit("/", 1)[-1]


def _field_name(option: str) -> str:
    return _env_name(option)[len(ENV_PREFIX) :].lower()


def from_values(values: dict[str, Any]) -> SqsdConfig:
    """Build the config from already-typed option values and check cross-field rules."""
    kwargs = {_field_name(name): value for name, value in values.items()}
    config = SqsdConfig(**kwargs)
    if not config.queue_name:
        raise cfg.ConfigError(f"WorkerQueueURL must end with the queue name, got {config.worker_queue_url!r}")
    if not config.http_path.startswith("/"):
        raise cfg.ConfigError(f"HttpPath must start with '/', got {config.http_path!r}")
    if "/" not in config.mime_type:
        raise cfg.ConfigError(f"MimeType must be a MIME type such as application/json, got {config.mime_type!r}")
    if config.health_url and not (config.health_url.startswith("/") or config.health_url.startswith("http")):
        raise cfg.ConfigError(f"HealthUrl must be a path starting with '/' or an http URL, got {config.health_url!r}")
    if not config.instance_id:
        config = _replace(config, instance_id=_default_instance_id())
    return config


def _replace(config: SqsdConfig, **changes) -> SqsdConfig:
    from dataclasses import replace

    return replace(config, **changes)


def _default_instance_id() -> str:
    # cloud-init records the EC2 instance id here; elsewhere the host name identifies the instance.
    try:
        with open("/var/lib/cloud/data/instance-id", encoding="utf-8") as handle:
            value = handle.read().strip()
            if value:
                return value
    except OSError:
        pass
    return socket.gethostname()


def load(
    path: str | None = None, environ: dict[str, str] | None = None, overrides: dict[str, Any] | None = None
) -> SqsdConfig:
    """Load and validate the configuration; raises :class:`ConfigError` naming the bad option."""
    environ = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    source = "environment"
    if path:
        file_values = cfg.read_file(path, NAMESPACES)
        source = path
    values = cfg.load(OPTIONS, file_values, environ, overrides, source=source)
    return from_values(values)
