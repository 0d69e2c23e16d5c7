"""The sample application of the `web` scenario: a bundle in Elastic Beanstalk's Python layout (WSGIPath
application:application, the platform's default), with a health path and an endpoint that shows one
environment property."""

import os

from flask import Flask

application = Flask(__name__)


@application.get("/")
def index():
    return "Hello from the webstack sample application\n"


@application.get("/health")
def health():
    return "ok\n"


@application.get("/env/<name>")
def environment(name):
    """The value of one environment variable of the application's process (404 when it is not set)."""
    value = os.environ.get(name)
    if value is None:
        return "not set\n", 404
    return value, 200, {"Content-Type": "text/plain; charset=utf-8"}
