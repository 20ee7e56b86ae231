"""Pod analyzers: one failure class of a pod per module (registry: analyzers/__init__.py)."""
