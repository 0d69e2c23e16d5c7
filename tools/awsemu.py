"""The local AWS endpoint: moto on loopback behind a counting and fault-injecting layer.

Every request that reaches the emulator is recorded by service and action, with whether it
mutates state, so any playbook (ours or one written with amazon.aws modules) is measured the
same way.  Chosen calls can be answered with an error (throttling, 5xx) to test retries.

Command line::

    python tools/awsemu.py start [--state-dir build/awsemu]   # background; prints the endpoint
    python tools/awsemu.py stop  [--state-dir build/awsemu]
    python tools/awsemu.py status
    python tools/awsemu.py serve [--port 0] [--ready-file F]   # foreground

Control endpoints (beside the AWS APIs, on the same port)::

    GET    /_emu/calls          the recorded calls, oldest first
    POST   /_emu/calls/reset    forget them
    POST   /_emu/faults         {"action": "ReceiveMessage", "count": 2, "code": "ThrottlingException",
                                 "status": 400, "service": "sqs"}
    DELETE /_emu/faults         clear all faults
    POST   /_emu/slow           {"rds": 20, "elasticache": 15, "cloudfront": 10}: resources created from now on
                                 stay "creating" (RDS DB instances, ElastiCache replication groups) or
                                 "InProgress" (CloudFront distributions) for that many seconds, as real AWS
                                 does for many minutes; 0 or absent = available at once (moto's default)
    POST   /moto-api/reset      moto's own: forget every resource

From Python (tests, benchmarks)::

    emu = Emulator(); emu.start(); ...; emu.calls(); emu.stop()
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs

HOST = "127.0.0.1"
DEFAULT_STATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "awsemu")

# Actions that only read.  Anything else is counted as mutating.
READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Head",
    "Lookup",
    "Search",
    "Check",
    "Validate",
    "Simulate",
    "Receive",
    "Test",
    "Preview",
)
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


_REST_ROUTES: dict[str, list] = {}


def _rest_routes(signing_name: str) -> list:
    """(method, compiled URI pattern, operation) for every operation of the REST services signed as
    ``signing_name``, from botocore's own service models, most specific pattern first."""
    if signing_name in _REST_ROUTES:
        return _REST_ROUTES[signing_name]
    import botocore.exceptions
    import botocore.session

    session = botocore.session.get_session()
    routes = []
    for service in {"execute-api": ["apigateway"], "es": ["opensearch"]}.get(signing_name, [signing_name]):
        try:
            model = session.get_service_model(service)
        except botocore.exceptions.UnknownServiceError:  # report method and path instead
            continue
        if model.metadata.get("protocol") not in ("rest-xml", "rest-json"):
            continue
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http.get("requestUri", "/")
            path, _sep, query = uri.partition("?")
            marked = re.sub(r"\{[^}]+\+\}", "GREEDYLABEL", path)
            marked = re.sub(r"\{[^}]+\}", "ONELABEL", marked)
            pattern = re.escape(marked).replace("GREEDYLABEL", ".+").replace("ONELABEL", "[^/]+")
            required = [part.split("=")[0] for part in query.split("&") if part]
            routes.append((http.get("method", "GET"), re.compile("^" + pattern + "/?$"), required, name))
    # most specific first; CopyObject shares PutObject's route (a header tells them apart): Put wins
    routes.sort(key=lambda route: (-len(route[2]), -len(route[1].pattern), route[3].startswith("Copy")))
    _REST_ROUTES[signing_name] = routes
    return routes


def rest_operation(service: str, method: str, path: str, query: str) -> str | None:
    """The operation a REST request calls (Route 53's POST .../tags is ListTagsForResources, a read)."""
    keys = set(parse_qs(query, keep_blank_values=True))
    for route_method, pattern, required, name in _rest_routes(service):
        if route_method == method and pattern.match(path) and all(k in keys for k in required):
            return name
    return None


def is_mutating(action: str) -> bool:
    """Whether an action (``DescribeVpcs`` or ``GET /2020-05-31/distribution``) changes state."""
    if " " in action:  # REST protocols: method + path
        return action.split(" ", 1)[0] not in ("GET", "HEAD", "OPTIONS")
    return not action.startswith(READ_PREFIXES)


def service_of(environ) -> str:
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    host = environ.get("HTTP_HOST", "")
    return host.split(".", 1)[0] if "amazonaws" in host else "unknown"


def action_of(environ, body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: "AmazonSQS.ReceiveMessage"
        return target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("Action"):
        return query["Action"][0]
    content_type = environ.get("CONTENT_TYPE", "")
    if body and "x-www-form-urlencoded" in content_type:
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("Action"):
            return form["Action"][0]
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    try:
        operation = rest_operation(service_of(environ), method, path, environ.get("QUERY_STRING", ""))
    except Exception:  # noqa: BLE001 - counting must never break a request
        operation = None
    return operation or f"{method} {path}"


# Slow resources: moto makes everything available at once.  For RDS and ElastiCache the middleware
# remembers when each one was created and rewrites the status in Describe answers until its delay is
# over; CloudFront has a state machine of its own in moto (time progression), which is set instead.
SLOW_CREATES = {
    # create action: (service, form field with the id, describe action, element of one item, status element)
    "CreateDBInstance": ("rds", "DBInstanceIdentifier", "DescribeDBInstances", "DBInstance", "DBInstanceStatus"),
    "CreateCacheCluster": (
        "elasticache",
        "CacheClusterId",
        "DescribeCacheClusters",
        "CacheCluster",
        "CacheClusterStatus",
    ),
    "CreateReplicationGroup": (
        "elasticache",
        "ReplicationGroupId",
        "DescribeReplicationGroups",
        "ReplicationGroup",
        "Status",
    ),
}
SLOW_DESCRIBES = {spec[2]: spec for spec in SLOW_CREATES.values()}

# Where moto answers an empty list and AWS answers an error: a describe by name of something that does not
# exist.  (action, the request's name field, the element of one item, the error AWS answers, its message)
NOT_FOUND = {
    "DescribeDBParameterGroups": (
        "DBParameterGroupName",
        "<DBParameterGroup>",
        "DBParameterGroupNotFound",
        "DBParameter group %s not found.",
    ),
}


def hold_status(body: bytes, element: str, status_element: str, pending: set[str]) -> bytes:
    """Answer "creating" instead of "available" for the items whose id is in ``pending``."""
    text = body.decode("utf-8")
    item = re.compile(r"<%s>(.*?)</%s>" % (element, element), re.S)
    ident = re.compile(r"<(?:DBInstanceIdentifier|ReplicationGroupId|CacheClusterId)>([^<]+)</")

    def rewrite(match):
        block = match.group(0)
        found = ident.search(block)
        if not found or found.group(1).lower() not in pending:
            return block
        return block.replace(
            "<%s>available</%s>" % (status_element, status_element),
            "<%s>creating</%s>" % (status_element, status_element),
        )

    return item.sub(rewrite, text).encode("utf-8")


class CountingFaultMiddleware:
    """WSGI middleware: records each AWS call and answers chosen ones with an injected error."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.log: list[dict] = []
        self.faults: list[dict] = []
        self.slow: dict[str, float] = {}  # service -> seconds a new resource stays pending
        self.created: dict[tuple, float] = {}  # (service, lowercased id) -> until when it is held pending

    # -- control API ---------------------------------------------------------------------------
    def _control(self, environ, body, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        with self.lock:
            if path == "/_emu/calls" and method == "GET":
                payload = list(self.log)
            elif path == "/_emu/calls/reset" and method == "POST":
                self.log.clear()
                payload = {"ok": True}
            elif path == "/_emu/faults" and method == "POST":
                fault = json.loads(body or b"{}")
                fault.setdefault("count", 1)
                fault.setdefault("code", "ThrottlingException")
                fault.setdefault("status", 400)
                self.faults.append(fault)
                payload = {"ok": True}
            elif path == "/_emu/faults" and method == "DELETE":
                self.faults.clear()
                payload = {"ok": True}
            elif path == "/_emu/faults" and method == "GET":
                payload = list(self.faults)
            elif path == "/_emu/slow" and method == "POST":
                self.slow = dict((k, float(v)) for k, v in json.loads(body or b"{}").items() if v)
                self._cloudfront_transition(self.slow.get("cloudfront"))
                payload = {"ok": True, "slow": self.slow}
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"error": "unknown control path"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]

    def _matching_fault(self, service, action):
        for fault in self.faults:
            if fault["count"] <= 0:
                continue
            if fault.get("action") not in (None, action):
                continue
            if fault.get("service") not in (None, service):
                continue
            fault["count"] -= 1
            return fault
        return None

    @staticmethod
    def _cloudfront_transition(seconds):
        from moto.moto_api import state_manager

        if seconds:
            state_manager.set_transition("cloudfront::distribution", {"progression": "time", "seconds": seconds})
        else:
            state_manager.unset_transition("cloudfront::distribution")

    def _pending(self, service):
        now = time.monotonic()
        with self.lock:
            return set(ident for (owner, ident), until in self.created.items() if owner == service and until > now)

    def _note_create(self, action, body):
        service, field = SLOW_CREATES[action][:2]
        seconds = self.slow.get(service)
        ident = parse_qs(body.decode("utf-8", "replace")).get(field, [None])[0]
        if seconds and ident:
            with self.lock:
                self.created[(service, ident.lower())] = time.monotonic() + seconds

    def _answer(self, environ):
        """moto's whole answer to a request: (status, headers, body), to be rewritten before it is sent."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], body

    def _held(self, environ, start_response, spec, pending):
        status, headers, body = self._answer(environ)
        if status.startswith("200"):
            body = hold_status(body, spec[3], spec[4], pending)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def _not_found(self, environ, start_response, spec, name):
        status, headers, body = self._answer(environ)
        if status.startswith("200") and spec[1].encode() not in body:
            fault = {"code": spec[2], "status": 404, "message": spec[3] % name}
            return self._error(environ, fault, start_response)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _error(environ, fault, start_response):
        code, status = fault["code"], int(fault["status"])
        message = fault.get("message", "injected by awsemu")
        reason = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}.get(
            status, "Error"
        )
        if environ.get("HTTP_X_AMZ_TARGET"):
            body = json.dumps({"__type": code, "message": message}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-query-error", f"{code};Sender")]
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>awsemu</RequestId></ErrorResponse>"
            ).encode()
            headers = [("Content-Type", "text/xml")]
        start_response(f"{status} {reason}", headers + [("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emu/"):
            return self._control(environ, body, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        service = service_of(environ)
        action = action_of(environ, body)
        with self.lock:
            fault = self._matching_fault(service, action)
            self.log.append(
                {
                    "service": service,
                    "action": action,
                    "mutating": is_mutating(action),
                    "faulted": bool(fault),
                    "time": time.time(),  # to tell apart the calls of several tasks of one playbook run
                }
            )
        if fault:
            return self._error(environ, fault, start_response)
        if action in NOT_FOUND:
            name = parse_qs(body.decode("utf-8", "replace")).get(NOT_FOUND[action][0], [None])[0]
            if name:
                return self._not_found(environ, start_response, NOT_FOUND[action], name)
        if action in SLOW_CREATES:
            self._note_create(action, body)
        elif action in SLOW_DESCRIBES and self.created:
            pending = self._pending(SLOW_DESCRIBES[action][0])
            if pending:
                return self._held(environ, start_response, SLOW_DESCRIBES[action], pending)
        return self.app(environ, start_response)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def patch_moto() -> None:
    """Fill gaps of moto 5.2.5 that stand between the collection and a complete teardown, the way AWS behaves.

    ElastiCache: DeleteReplicationGroup leaves the group "deleting" for ever and ignores
    FinalSnapshotIdentifier, and DeleteCacheSubnetGroup does not exist.  Here a deleted group takes its
    final snapshot when asked, answers "deleting" once and is gone; subnet groups can be deleted (refused
    while a replication group uses one, as AWS does).  DescribeCacheClusters answers no CacheNodes (even with
    ShowCacheNodeInfo), CacheSecurityGroups nor SecurityGroups, which community.aws.elasticache reads on every
    run: here they are answered as AWS does.

    SQS: a queue's RedriveAllowPolicy is taken (CreateQueue, SetQueueAttributes) but never returned by
    GetQueueAttributes; here it is returned as SQS does, the JSON document as last set.
    """
    import copy

    from moto.core.responses import EmptyResult, PaginatedResult
    from moto.elasticache import exceptions as cache_errors
    from moto.elasticache.responses import ElastiCacheResponse

    if getattr(ElastiCacheResponse, "webstack_patched", False):
        return
    patch_sqs_redrive_allow_policy()

    class SubnetGroupInUse(cache_errors.ElastiCacheException):
        code = "CacheSubnetGroupInUse"

    original_delete = ElastiCacheResponse.delete_replication_group

    def delete_replication_group(self):
        backend = self.elasticache_backend
        group_id = self._get_param("ReplicationGroupId")
        snapshot = self._get_param("FinalSnapshotIdentifier")
        if snapshot and group_id in backend.replication_groups:
            backend.create_snapshot(
                snapshot_name=snapshot, replication_group_id=group_id, cache_cluster_id=None, kms_key_id=None, tags=None
            )
        result = original_delete(self)
        gone = backend.replication_groups.pop(group_id, None)
        if gone is not None:
            backend.tagging_service.delete_all_tags_for_resource(gone.arn)
        return result

    def delete_cache_subnet_group(self):
        backend = self.elasticache_backend
        name = self._get_param("CacheSubnetGroupName")
        if name not in backend.cache_subnet_groups:
            raise cache_errors.CacheSubnetGroupNotFound(name)
        for group in backend.replication_groups.values():
            if getattr(group, "cache_subnet_group_name", None) == name:
                raise SubnetGroupInUse(
                    "Cache subnet group %s is in use by replication group %s" % (name, group.replication_group_id)
                )
        gone = backend.cache_subnet_groups.pop(name)
        backend.tagging_service.delete_all_tags_for_resource(gone.arn)
        return EmptyResult()

    def as_aws_answers(cluster, show_nodes):
        """A copy of the cluster with what AWS answers and moto leaves out (the serializer picks each element
        from the snake_case attribute): CacheSecurityGroups and SecurityGroups always, CacheNodes with
        ShowCacheNodeInfo (one for Redis, NumCacheNodes for Memcached)."""
        shown = copy.copy(cluster)
        shown.cache_security_groups = [
            {"CacheSecurityGroupName": name, "Status": "active"} for name in cluster.cache_security_group_names
        ]
        shown.security_groups = [{"SecurityGroupId": ident, "Status": "active"} for ident in cluster.security_group_ids]
        if show_nodes:
            zone = cluster.preferred_availability_zone or next(iter(cluster.preferred_availability_zones), None)
            shown.cache_nodes = [
                {
                    "CacheNodeId": "%04d" % number,
                    "CacheNodeStatus": "available",
                    "CacheNodeCreateTime": cluster.cache_cluster_create_time,
                    "Endpoint": {
                        "Address": "%s.%s.%04d.use1.cache.amazonaws.com"
                        % (cluster.cache_cluster_id, cluster.cache_node_id[:6], number),
                        "Port": cluster.port,
                    },
                    "ParameterGroupStatus": "in-sync",
                    "CustomerAvailabilityZone": zone or "us-east-1a",
                }
                for number in range(1, (getattr(cluster, "num_cache_nodes", None) or 1) + 1)
            ]
        return shown

    def describe_cache_clusters(self):
        clusters = self.elasticache_backend.describe_cache_clusters(cache_cluster_id=self._get_param("CacheClusterId"))
        show_nodes = self._get_bool_param("ShowCacheNodeInfo", False)
        return PaginatedResult({"CacheClusters": [as_aws_answers(cluster, show_nodes) for cluster in clusters]})

    ElastiCacheResponse.delete_replication_group = delete_replication_group
    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group
    ElastiCacheResponse.webstack_patched = True


def patch_sqs_redrive_allow_policy() -> None:
    """GetQueueAttributes answers the RedriveAllowPolicy last set (moto stores it, and leaves it out)."""
    from moto.sqs.models import Queue

    shown = Queue.attributes.fget

    def attributes(self):
        result = shown(self)
        policy = getattr(self, "redrive_allow_policy", None)
        if policy:
            result["RedriveAllowPolicy"] = policy if isinstance(policy, str) else json.dumps(policy)
        return result

    Queue.attributes = property(attributes)


def serve(port: int, ready_file: str | None = None) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    patch_moto()

    app = CountingFaultMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *args: threading.Thread(target=server.shutdown, daemon=True).start())
    if ready_file:
        with open(ready_file + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(f"http://{HOST}:{server.server_port}\n")
        os.replace(ready_file + ".tmp", ready_file)
    server.serve_forever()


def _request(endpoint: str, path: str, method: str = "GET", payload=None, timeout: float = 10.0):
    data = json.dumps(payload).encode() if payload is not None else (b"" if method != "GET" else None)
    req = urllib.request.Request(endpoint + path, data=data, method=method)  # noqa: S310 - loopback only
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read() or b"null")


class Emulator:
    """A moto server in a subprocess on a free loopback port, with call counting and faults."""

    def __init__(self, port: int | None = None, log_path: str | None = None):
        self.port = port or free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Emulator:
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "serve", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        wait_ready(self.endpoint, timeout, self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def calls(self) -> list[dict]:
        return _request(self.endpoint, "/_emu/calls")

    def reset_calls(self) -> None:
        _request(self.endpoint, "/_emu/calls/reset", "POST")

    def reset(self) -> None:
        _request(self.endpoint, "/moto-api/reset", "POST")
        _request(self.endpoint, "/_emu/faults", "DELETE")
        _request(self.endpoint, "/_emu/slow", "POST", {})
        self.reset_calls()

    def inject(self, action=None, count=1, code="ThrottlingException", status=400, service=None, message=None):
        fault = {"action": action, "count": count, "code": code, "status": status, "service": service}
        if message:
            fault["message"] = message
        _request(self.endpoint, "/_emu/faults", "POST", fault)

    def slow(self, **seconds) -> None:
        """Hold resources created from now on in their pending state: ``slow(rds=20, cloudfront=10)``."""
        _request(self.endpoint, "/_emu/slow", "POST", seconds)

    def clear_faults(self) -> None:
        _request(self.endpoint, "/_emu/faults", "DELETE")


def wait_ready(endpoint: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _request(endpoint, "/_emu/faults", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with status {proc.returncode} before answering") from exc
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not answer on {endpoint} within {timeout:.0f} s") from None
            time.sleep(0.1)


def summarize(calls: list[dict]) -> dict:
    """Totals by service and action: {"total": n, "mutating": m, "by_action": {"ec2:DescribeVpcs": k}}."""
    by_action: dict[str, int] = {}
    for call in calls:
        key = f"{call['service']}:{call['action']}"
        by_action[key] = by_action.get(key, 0) + 1
    return {
        "total": len(calls),
        "mutating": sum(1 for call in calls if call["mutating"]),
        "by_action": dict(sorted(by_action.items())),
    }


def _cmd_start(args) -> int:
    os.makedirs(args.state_dir, exist_ok=True)
    pid_file = os.path.join(args.state_dir, "pid")
    endpoint_file = os.path.join(args.state_dir, "endpoint")
    if _running(args.state_dir):
        with open(endpoint_file, encoding="utf-8") as handle:
            print(handle.read().strip())
        return 0
    port = args.port or free_port()
    emu = Emulator(port=port, log_path=os.path.join(args.state_dir, "server.log"))
    emu.start()
    with open(pid_file, "w", encoding="utf-8") as handle:
        handle.write(f"{emu.proc.pid}\n")
    with open(endpoint_file, "w", encoding="utf-8") as handle:
        handle.write(emu.endpoint + "\n")
    emu.proc = None  # keep it running after we exit
    print(emu.endpoint)
    return 0


def _running(state_dir: str) -> int | None:
    try:
        with open(os.path.join(state_dir, "pid"), encoding="utf-8") as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _cmd_stop(args) -> int:
    pid = _running(args.state_dir)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        print(f"stopped the emulator (pid {pid})")
    for name in ("pid", "endpoint"):
        try:
            os.unlink(os.path.join(args.state_dir, name))
        except FileNotFoundError:
            pass
    return 0


def _cmd_status(args) -> int:
    pid = _running(args.state_dir)
    if not pid:
        print("not running")
        return 1
    with open(os.path.join(args.state_dir, "endpoint"), encoding="utf-8") as handle:
        endpoint = handle.read().strip()
    print(f"{endpoint} (pid {pid}); calls so far: {json.dumps(summarize(_request(endpoint, '/_emu/calls')))}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
        if name == "start":
            cmd.add_argument("--port", type=int, default=0)
    cmd = sub.add_parser("serve")
    cmd.add_argument("--port", type=int, default=0)
    cmd.add_argument("--ready-file")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.ready_file)
        return 0
    return {"start": _cmd_start, "stop": _cmd_stop, "status": _cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
