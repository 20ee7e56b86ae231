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


class Forbidden(Exception):
    """One kind could not be read (HTTP 403). Not fatal: the diagnosis degrades and says so."""

    def __init__(self, resource, namespace, message):
        super().__init__(message)
        self.resource = resource
        self.namespace = namespace
