"""Configuration: Elastic Beanstalk option names, defaults and ranges; file, environment, clear errors."""

from __future__ import annotations

import json

import pytest

from webstack_agents.common.config import ConfigError
from webstack_agents.sqsd import config as sqsd_config

QUEUE = "http://127.0.0.1:1/123456789012/jobs"


def load(overrides=None, environ=None, path=None):
    base = {"WorkerQueueURL": QUEUE}
    base.update(overrides or {})
    return sqsd_config.load(path, environ=environ or {}, overrides=base)


def test_elastic_beanstalk_defaults():
    config = load()
    assert config.http_path == "/"
    assert config.mime_type == "application/json"
    assert config.http_connections == 50
    assert config.connect_timeout == 5
    assert config.inactivity_timeout == 299
    assert config.visibility_timeout == 300
    assert config.error_visibility_timeout == 2
    assert config.retention_period == 345600
    assert config.max_retries == 10
    assert config.port == 80
    assert config.wait_time_seconds == 20
    assert config.queue_name == "jobs"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("HttpConnections", 0, "HttpConnections must be an integer between 1 and 100, got 0"),
        ("HttpConnections", 101, "HttpConnections must be an integer between 1 and 100, got 101"),
        ("HttpConnections", "many", "HttpConnections must be an integer between 1 and 100, got 'many'"),
        ("ConnectTimeout", 61, "ConnectTimeout must be an integer between 1 and 60, got 61"),
        ("InactivityTimeout", 0, "InactivityTimeout must be an integer between 1 and 36000, got 0"),
        ("VisibilityTimeout", 43201, "VisibilityTimeout must be an integer between 0 and 43200, got 43201"),
        ("ErrorVisibilityTimeout", -1, "ErrorVisibilityTimeout must be an integer between 0 and 43200, got -1"),
        ("RetentionPeriod", 59, "RetentionPeriod must be an integer between 60 and 1209600, got 59"),
        ("MaxRetries", 0, "MaxRetries must be an integer between 1 and 100, got 0"),
        ("Port", 70000, "Port must be an integer between 1 and 65535, got 70000"),
        ("WaitTimeSeconds", 21, "WaitTimeSeconds must be an integer between 0 and 20, got 21"),
        ("MaxRetries", True, "MaxRetries must be an integer between 1 and 100, got True"),
        ("HttpPath", "jobs", "HttpPath must start with '/', got 'jobs'"),
        ("MimeType", "json", "MimeType must be a MIME type"),
        ("WorkerQueueURL", "jobs", "WorkerQueueURL must be an http(s) URL, got 'jobs'"),
        ("WorkerQueueURL", "", "WorkerQueueURL is required"),
        ("LogLevel", "loud", "LogLevel must be one of debug, info, warning, error, got 'loud'"),
        ("HealthUrl", "health", "HealthUrl must be a path starting with '/' or an http URL"),
    ],
)
def test_invalid_values_name_the_option(option, value, message):
    with pytest.raises(ConfigError) as info:
        load({option: value})
    assert message in str(info.value)


def test_missing_queue_url_is_named():
    with pytest.raises(ConfigError, match="WorkerQueueURL is required"):
        sqsd_config.load(None, environ={}, overrides={})


def test_unknown_option_is_rejected_with_a_suggestion(tmp_path):
    path = tmp_path / "sqsd.yaml"
    path.write_text(f"WorkerQueueURL: {QUEUE}\nHttpConection: 5\n")
    with pytest.raises(ConfigError, match=r"unknown option 'HttpConection' .*did you mean HttpConnections\?"):
        sqsd_config.load(str(path), environ={})


def test_file_with_namespaces_and_environment_override(tmp_path):
    path = tmp_path / "sqsd.yaml"
    path.write_text(
        "aws:elasticbeanstalk:sqsd:\n"
        f"  WorkerQueueURL: {QUEUE}\n"
        "  HttpConnections: 20\n"
        "  HttpPath: /from-file\n"
        "webstack:sqsd:\n"
        "  Port: 8080\n"
    )
    environ = {"WEBSTACK_SQSD_HTTP_CONNECTIONS": "7", "WEBSTACK_SQSD_WORKER_QUEUE_URL": QUEUE + "-env"}
    config = sqsd_config.load(str(path), environ=environ)
    assert config.http_connections == 7, "the environment wins over the file"
    assert config.http_path == "/from-file"
    assert config.port == 8080
    assert config.queue_name == "jobs-env"


def test_environment_only():
    environ = {"WEBSTACK_SQSD_WORKER_QUEUE_URL": QUEUE, "WEBSTACK_SQSD_MAX_RETRIES": "3"}
    config = sqsd_config.load(None, environ=environ)
    assert config.max_retries == 3


def test_json_file(tmp_path):
    path = tmp_path / "sqsd.json"
    path.write_text(json.dumps({"WorkerQueueURL": QUEUE, "MimeType": "text/plain"}))
    assert sqsd_config.load(str(path), environ={}).mime_type == "text/plain"


def test_unreadable_or_malformed_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        sqsd_config.load(str(tmp_path / "absent.yaml"), environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        sqsd_config.load(str(bad), environ={})


def test_every_option_has_a_documented_environment_variable():
    names = {option.env for option in sqsd_config.OPTIONS}
    assert "WEBSTACK_SQSD_WORKER_QUEUE_URL" in names
    assert "WEBSTACK_SQSD_ERROR_VISIBILITY_TIMEOUT" in names
    assert "WEBSTACK_SQSD_HTTP_CONNECTIONS" in names
    assert len(names) == len(sqsd_config.OPTIONS)


def test_periodic_tasks_require_a_leader_table(tmp_path):
    from webstack_agents.sqsd.daemon import Daemon

    cron = tmp_path / "cron.yaml"
    cron.write_text("version: 1\ncron:\n - name: a\n   url: /a\n   schedule: '* * * * *'\n")
    config = load({"CronFile": str(cron), "EndpointUrl": "http://127.0.0.1:1", "Region": "us-east-1"})
    with pytest.raises(ConfigError, match="LeaderTable is required"):
        Daemon(config)
