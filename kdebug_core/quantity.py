"""Resource quantities (`128Mi`, `134217728`, `129e6`, `1.5Gi`, `500M`) parsed and printed.

Parsing is the `kubernetes` package's own `parse_quantity`. Importing it as
`kubernetes.utils.quantity` would first run `kubernetes/__init__.py`, which loads the whole client
and config stack (~0.3 s) — too slow for `-f` and `--help`. The module itself only needs `decimal`,
so it is loaded straight from the installed package's file.
"""

import importlib.util
import os
from decimal import Decimal
from typing import Optional


def _load_parse_quantity():
    spec = importlib.util.find_spec("kubernetes")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "utils", "quantity.py")
        if os.path.exists(path):
            mod_spec = importlib.util.spec_from_file_location("_kdebug_k8s_quantity", path)
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
            return module.parse_quantity
    from kubernetes.utils.quantity import parse_quantity  # layout changed: take the slow path
    return parse_quantity


_parse = _load_parse_quantity()

MI = 1024 ** 2
GI = 1024 ** 3


def parse(value) -> Optional[Decimal]:
    """Quantity as a Decimal (bytes for memory, cores for cpu); None when absent or not a quantity."""
    if value is None or value == "":
        return None
    try:
        return _parse(value)
    except (ValueError, TypeError, ArithmeticError):
        return None


def memory_bytes(value) -> Optional[int]:
    q = parse(value)
    return None if q is None else int(q)


def format_bytes(n: Optional[float]) -> str:
    """Bytes in the binary unit a person would write in a manifest (`256Mi`, `1.5Gi`)."""
    if n is None:
        return "?"
    n = float(n)
    for unit, size in (("Gi", GI), ("Mi", MI), ("Ki", 1024)):
        if n >= size:
            v = n / size
            return f"{v:.0f}{unit}" if abs(v - round(v)) < 0.05 else f"{v:.1f}{unit}"
    return f"{int(n)}"


def round_up_memory(n: float) -> str:
    """A limit to suggest, rounded up to a step a person would write: 64Mi under 1Gi, 256Mi up to
    8Gi, whole Gi above (18Gi, not 18176Mi)."""
    n = float(n)
    step = 64 * MI if n < GI else 256 * MI if n < 8 * GI else GI
    rounded = -(-int(n) // step) * step
    if rounded % GI == 0:
        return f"{rounded // GI}Gi"
    return f"{rounded // MI}Mi"


def format_cpu(value) -> str:
    q = parse(value)
    if q is None:
        return "?"
    return f"{int(q * 1000)}m" if q < 1 else f"{q.normalize()}"
