"""Machine output: the SPEC's JSON/YAML report, and `-o name` lines for pipelines."""

import json

from ..findings import Report
from ..sanitize import json_safe, yaml_safe_dump


def render_json(report: Report) -> str:
    # Cluster text may carry bidi or C1 controls: escaped as \uXXXX, the same data for a reader.
    return json_safe(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def render_yaml(report: Report) -> str:
    return yaml_safe_dump(report.to_dict(), sort_keys=False, width=100)


def render_name(report: Report) -> str:
    """One `namespace/kind/name` line per object with findings at warning or above.

    Every plugin reads these lines back as targets: `kubectl oomcheck -A -o name | kubectl why -`.
    """
    seen = []
    for f in report.findings:
        if f.rank >= 1 and f.object.slug() not in seen:
            seen.append(f.object.slug())
    return "".join(s + "\n" for s in seen)
