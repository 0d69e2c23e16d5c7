"""The daemon as a real process, started through its console entry point: SIGTERM drain, kill -9, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import wait_for

ENTRY_POINT = os.path.join(os.path.dirname(sys.executable), "webstack-sqsd")


def _env(endpoint: str, **options) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBSTACK_SQSD_")}
    env["AWS_ENDPOINT_URL"] = endpoint
    for name, value in options.items():
        env[name] = str(value)
    return env


def _write_config(tmp_path, queue_url, port, endpoint, **extra):
    config = {
        "aws:elasticbeanstalk:sqsd": {
            "WorkerQueueURL": queue_url,
            "HttpConnections": 3,
            "VisibilityTimeout": 60,
            "ErrorVisibilityTimeout": 1,
            "InactivityTimeout": 30,
        },
        "webstack:sqsd": {
            "Port": port,
            "EndpointUrl": endpoint,
            "Region": "us-east-1",
            "WaitTimeSeconds": 1,
            "DrainTimeout": 10,
            "InstanceId": "i-proc",
            "StatusFile": str(tmp_path / "status.json"),
            "StatusInterval": 0.2,
        },
    }
    for key, value in extra.items():
        config["webstack:sqsd"][key] = value
    path = tmp_path / "sqsd.json"
    path.write_text(json.dumps(config))
    return str(path)


def _start(config_path, endpoint, tmp_path, **env_options):
    log = open(tmp_path / f"daemon-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - closed by the test
    proc = subprocess.Popen(
        [ENTRY_POINT, "--config", config_path],
        env=_env(endpoint, **env_options),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_file = log
    return proc


def _log_lines(proc) -> list[dict]:
    proc.log_file.flush()
    with open(proc.log_file.name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.startswith("{")]


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


@pytest.fixture
def processes():
    started = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.log_file.close()


def test_console_entry_point_exists():
    assert os.access(ENTRY_POINT, os.X_OK), f"{ENTRY_POINT} is installed by 'pip install -e agents'"


def test_sigterm_finishes_in_flight_releases_the_rest_and_exits_0(queues, app, endpoint, tmp_path, processes):
    url, _unused = queues.create()
    queues.send(url, 20)
    app.responder = lambda seen: (200, 1.5)
    proc = _start(_write_config(tmp_path, url, app.port, endpoint), endpoint, tmp_path)
    processes.append(proc)
    wait_for(lambda: app.current == 3, 30, message="3 POSTs in flight")
    time.sleep(0.3)  # let the receivers prefetch what they are allowed to
    assert _peak_rss_mb(proc.pid) < 60, "the daemon stays under 60 MB while delivering"
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    assert proc.wait(20) == 0
    assert time.monotonic() - began < 15, "exits within a bounded time"
    posts = app.posts()
    assert len(posts) == 3, "no new POST after SIGTERM"
    assert all(seen.status == 200 for seen in posts), "in-flight POSTs were finished"
    visible, invisible = queues.depth(url)
    assert (visible, invisible) == (17, 0), "the 3 delivered are deleted; the rest are visible again at once"
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "stopped" and status["counters"]["Succeeded"] == 3
    assert any(line["msg"] == "stopped" for line in _log_lines(proc))


def test_kill_9_with_messages_in_flight_loses_nothing(queues, app, endpoint, tmp_path, processes):
    url, _unused = queues.create()
    sent = queues.send(url, 20)
    app.responder = lambda seen: (200, 0.4)
    config = _write_config(tmp_path, url, app.port, endpoint)
    first = _start(config, endpoint, tmp_path, WEBSTACK_SQSD_VISIBILITY_TIMEOUT=3, WEBSTACK_SQSD_HTTP_CONNECTIONS=5)
    processes.append(first)
    wait_for(lambda: len(app.posts()) >= 7, 30, message="deliveries under way")
    wait_for(lambda: app.current >= 3, 10, message="POSTs in flight at the moment of the kill")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    assert first.returncode == -signal.SIGKILL
    app.responder = lambda seen: 200
    second = _start(config, endpoint, tmp_path, WEBSTACK_SQSD_VISIBILITY_TIMEOUT=3, WEBSTACK_SQSD_HTTP_CONNECTIONS=5)
    processes.append(second)
    expected = {body.encode() for body in sent}
    wait_for(lambda: set(app.bodies_ok()) >= expected, 40, message="every message delivered after the crash")
    wait_for(lambda: queues.empty(url), 20, message="the queue to be empty")
    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0


def test_check_validates_and_exits_0(queues, app, endpoint, tmp_path):
    url, _unused = queues.create()
    result = subprocess.run(
        [ENTRY_POINT, "--config", _write_config(tmp_path, url, app.port, endpoint), "--check"],
        env=_env(endpoint),
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_bad_option_is_a_clear_startup_error(queues, app, endpoint, tmp_path):
    url, _unused = queues.create()
    result = subprocess.run(
        [ENTRY_POINT, "--config", _write_config(tmp_path, url, app.port, endpoint)],
        env=_env(endpoint, WEBSTACK_SQSD_HTTP_CONNECTIONS=0),
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "HttpConnections must be an integer between 1 and 100, got 0" in result.stderr


def test_bad_cron_yaml_is_a_clear_startup_error(queues, app, endpoint, tmp_path):
    url, _unused = queues.create()
    cron = tmp_path / "cron.yaml"
    cron.write_text("version: 1\ncron:\n - name: nightly\n   url: /nightly\n   schedule: '0 25 * * *'\n")
    config = _write_config(tmp_path, url, app.port, endpoint, CronFile=str(cron), LeaderTable="leaders")
    result = subprocess.run(
        [ENTRY_POINT, "--config", config],
        env=_env(endpoint),
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "task 'nightly'" in result.stderr and "field 'schedule'" in result.stderr and "hour" in result.stderr
