"""The corpus uses the end-to-end harness: the stand-in API server and kubectl's plugin dispatch."""

from tests.e2e.conftest import cluster, kubectl, plugin  # noqa: F401  (pytest fixtures)
