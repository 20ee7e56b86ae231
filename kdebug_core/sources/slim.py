"""What kdebug never reads, dropped from each object as its page arrives (before the shape check
and before it is kept for the run).

A real API server's objects carry `metadata.managedFields` (server-side apply's field ownership:
for a pod, as large as its spec and status together) and often the `kubectl apply` annotation
holding the whole previous manifest. No analyzer or renderer reads either, and at 10,000 pods they
are a large part of the memory and of the time spent walking the objects.
"""

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def slim(item):
    """The same object (changed in place) without managedFields and the last-applied annotation."""
    if isinstance(item, dict):
        m = item.get("metadata")
        if isinstance(m, dict):
            m.pop("managedFields", None)
            annotations = m.get("annotations")
            if isinstance(annotations, dict) and LAST_APPLIED in annotations:
                del annotations[LAST_APPLIED]
    return item
