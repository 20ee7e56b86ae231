"""Service subjects (endpoints-check): placeholder until the plugin lands."""

from .errors import UsageError


def build_service_report(view, opts, targets, namespace):
    raise UsageError("kubectl endpoints-check is not available in this build yet")
