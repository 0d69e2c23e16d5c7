# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks that run before any AWS call.  Each error names the option and the fix."""

from __future__ import annotations

import ipaddress
import re

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")


class ValidationError(Exception):
    def __init__(self, option, message):
        super().__init__("%s: %s" % (option, message))
        self.option = option
        self.message = message

    @property
    def errors(self):
        """Every problem this error stands for (one here; several for ValidationErrors)."""
        return [self]


class ValidationErrors(ValidationError):
    """Several problems found at once, each a ValidationError naming its option; the first one's option is
    the option of the whole (what a module's failure reports in ``option``)."""

    def __init__(self, errors):
        self._errors = [single for error in errors for single in error.errors]
        super(ValidationError, self).__init__("; ".join(str(error) for error in self._errors))  # Exception's
        self.option = self._errors[0].option
        self.message = self._errors[0].message

    @property
    def errors(self):
        return list(self._errors)


def collect(*checks):
    """Run every check (a callable that raises ValidationError) and raise all their problems together."""
    found = []
    for check in checks:
        try:
            check()
        except ValidationError as error:
            found.extend(error.errors)
    if found:
        raise ValidationErrors(found) if len(found) > 1 else found[0]


def environment_name(value, option="environment"):
    if not isinstance(value, str) or not ENVIRONMENT_NAME.match(value) or "--" in value:
        raise ValidationError(
            option,
            "%r is not a valid environment name; use 2 to 40 lowercase letters, digits and single hyphens, "
            "starting with a letter (for example 'shop-prod')" % (value,),
        )
    return value


def ipv4_network(value, option, min_prefix=16, max_prefix=28):
    """An IPv4 CIDR block in AWS's VPC range: /16 (largest) to /28 (smallest), host bits zero."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            option, "%r is not a valid IPv4 CIDR block (%s); write it like 10.0.0.0/16" % (value, exc)
        ) from None
    if network.version != 4:
        raise ValidationError(option, "%r is not an IPv4 CIDR block" % (value,))
    if not min_prefix <= network.prefixlen <= max_prefix:
        raise ValidationError(
            option,
            "%s has prefix /%d; AWS allows /%d to /%d here" % (value, network.prefixlen, min_prefix, max_prefix),
        )
    return network


def any_network(value, option):
    """An IPv4 or IPv6 CIDR used as a rule source."""
    try:
        return ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            option, "%r is not a valid CIDR (%s); write it like 203.0.113.0/24" % (value, exc)
        ) from None


def port(value, option):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValidationError(option, "%r is not a valid port; use an integer from 0 to 65535" % (value,))
    return value


def in_range(value, option, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(option, "%r is out of range; use an integer from %d to %d" % (value, low, high))
    return value


def no_overlaps(networks, option):
    """``networks``: list of (label, ip_network).  Fails naming the first two that overlap."""
    for index, (label, net) in enumerate(networks):
        for other_label, other in networks[index + 1 :]:
            if net.overlaps(other):
                raise ValidationError(
                    option,
                    "%s (%s) overlaps %s (%s); give each subnet its own range" % (label, net, other_label, other),
                )
