"""Machine output: the SPEC's JSON/YAML report, and `-o name` lines for pipelines."""

import json

from ..findings import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_yaml(report: Report) -> str:
    import yaml
    return yaml.safe_dump(report.to_dict(), sort_keys=False, allow_unicode=True, width=100)


def render_name(report: Report) -> str:
    """One `namespace/kind/name` line per object with findings at warning or above.

    Every plugin reads these lines back as targets: `kubectl oomcheck -A -o name | kubectl why -`.
    """
    seen = []
    for f in report.findings:
        if f.rank >= 1 and f.object.slug() not in seen:
            seen.append(f.object.slug())
    return "".join(s + "\n" for s in seen)
