"""A stand-in Kubernetes API server for tests (see ``apiserver.py``)."""
