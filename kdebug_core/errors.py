"""Errors that end a run, each mapped to one of the SPEC's exit codes.

The front end catches these and prints one line on stderr; anything else that escapes is a bug.
"""

EXIT_OK = 0          # nothing at warning or above
EXIT_PROBLEMS = 1    # problems found
EXIT_USAGE = 2       # bad flag, unknown target, unreadable or malformed file
EXIT_CLUSTER = 3     # the cluster could not be read (unreachable, unauthorised, timed out)


class KdebugError(Exception):
    """An error the user can act on; its message is the one line printed on stderr."""

    exit_code = EXIT_USAGE


class UsageError(KdebugError):
    exit_code = EXIT_USAGE


class InputError(KdebugError):
    """A file or stdin that cannot be read or parsed."""

    exit_code = EXIT_USAGE


class NotFoundError(KdebugError):
    """A named target that does not exist."""

    exit_code = EXIT_USAGE


class ClusterError(KdebugError):
    """The API server could not be reached or refused us as a whole."""

    exit_code = EXIT_CLUSTER


class ReadFailed(Exception):
    """One read failed for good (after retries): a 5xx, a timeout, a body that is not what the
    API returns. Not fatal to the run: the view records it as a fact (`ClusterView.incomplete`),
    and no verdict that needed it may be "healthy"."""

    status: "int | None" = None

    def __init__(self, resource, namespace, message, status=None):
        super().__init__(message)
        self.resource = resource
        self.namespace = namespace
        if status is not None:
            self.status = status


class Forbidden(ReadFailed):
    """One kind could not be read (HTTP 403). Not fatal: the diagnosis degrades and says so."""

    status = 403


class NotServed(Exception):
    """The server does not serve this API at all (no metrics-server, no events.k8s.io on an old
    server). Not a failed read: verdicts that can do without it stay complete; said once."""

    def __init__(self, resource, message=""):
        super().__init__(message or f"the server does not serve {resource}")
        self.resource = resource
