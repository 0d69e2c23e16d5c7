"""Typed options loaded from a YAML/JSON file and environment variables, validated with clear messages.

An agent declares its options as a list of :class:`Option`. Values come, lowest precedence first, from the
option defaults, the configuration file, the environment and explicit overrides. Every error names the
option, what it must be and what was given, so an operator can fix it without reading code.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the option."""


@dataclass(frozen=True)
class Option:
    """One configuration option.

    kind is one of: int, float, str, bool, url, path.
    """

    name: str
    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    env: str | None = None
    help: str = ""
    choices: tuple[str, ...] | None = None

    def describe_range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f" between {_fmt(self.minimum)} and {_fmt(self.maximum)}"
        if self.minimum is not None:
            return f" of at least {_fmt(self.minimum)}"
        if self.maximum is not None:
            return f" of at most {_fmt(self.maximum)}"
        return ""


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return str(value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def coerce(option: Option, value: Any) -> Any:
    """Convert and check one raw value (from YAML or an environment string)."""
    name = option.name
    if value is None:
        if option.required:
            raise ConfigError(f"{name} is required")
        return option.default
    if option.kind == "int":
        article = "an integer"
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be {article}{option.describe_range()}, got {value!r}")
        if isinstance(value, str):
            try:
                value = int(value.strip(), 10)
            except ValueError:
                raise ConfigError(f"{name} must be {article}{option.describe_range()}, got {value!r}") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{name} must be {article}{option.describe_range()}, got {value!r}")
        _check_range(option, value, article)
        return value
    if option.kind == "float":
        article = "a number"
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be {article}{option.describe_range()}, got {value!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be {article}{option.describe_range()}, got {value!r}") from None
        _check_range(option, value, article)
        return value
    if option.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {value!r}")
    value = value.strip()
    if option.required and not value:
        raise ConfigError(f"{name} is required")
    if option.choices is not None and value not in option.choices:
        raise ConfigError(f"{name} must be one of {', '.join(option.choices)}, got {value!r}")
    if option.kind == "url" and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _check_range(option: Option, value: float, article: str) -> None:
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{option.name} must be {article}{option.describe_range()}, got {value!r}")


def read_file(path: str, namespaces: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a YAML (or JSON) mapping of option names to values.

    Options may sit at the top level or under one of the given namespace keys
    (for example ``aws:elasticbeanstalk:sqsd``), so a file can mirror Elastic Beanstalk option settings.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML/JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping of option names to values")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in namespaces:
            if not isinstance(value, dict):
                raise ConfigError(f"configuration file {path}: {key} must be a mapping of option names to values")
            flat.update(value)
        else:
            flat[key] = value
    return flat


def load(
    options: list[Option],
    file_values: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    source: str = "configuration",
) -> dict[str, Any]:
    """Merge defaults < file < environment < overrides, reject unknown names, and validate every option."""
    by_name = {option.name: option for option in options}
    environ = os.environ if environ is None else environ
    file_values = file_values or {}
    overrides = overrides or {}
    for layer, label in ((file_values, source), (overrides, "overrides")):
        for key in layer:
            if key not in by_name:
                hint = difflib.get_close_matches(str(key), list(by_name), n=1)
                suggestion = f" (did you mean {hint[0]}?)" if hint else ""
                raise ConfigError(f"unknown option {key!r} in {label}{suggestion}")
    raw: dict[str, Any] = dict(file_values)
    for option in options:
        if option.env and option.env in environ:
            raw[option.name] = environ[option.env]
    raw.update(overrides)
    values: dict[str, Any] = {}
    for option in options:
        values[option.name] = coerce(option, raw.get(option.name))
    return values
