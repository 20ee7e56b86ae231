"""Compare a report with a scenario's expected.yaml (the runbook's diagnosis as data)."""

import os
from typing import Dict, List

import yaml


def expected_for(scenario_dir: str, plugin: str) -> List[Dict]:
    with open(os.path.join(scenario_dir, "expected.yaml")) as fh:
        return (yaml.safe_load(fh) or {}).get(plugin) or []


def scenario_dirs(root: str, plugin: str) -> List[str]:
    out = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.isfile(os.path.join(path, "expected.yaml")):
            with open(os.path.join(path, "expected.yaml")) as fh:
                if plugin in (yaml.safe_load(fh) or {}):
                    out.append(name)
    return out


def _text(f: Dict) -> str:
    parts = [f.get("summary", "")] + list(f.get("evidence") or [])
    for r in f.get("related") or []:
        parts.append(_text(r))
    return "\n".join(parts)


def check(findings: List[Dict], expected: List[Dict]):
    """Every expected finding is there with its facts; no unexpected error is reported."""
    for exp in expected:
        obj = exp["object"]
        matches = [f for f in findings
                   if f["reason"] == exp["reason"] and f["object"]["name"] == obj["name"]
                   and f["object"].get("namespace") == obj.get("namespace", f["object"].get("namespace"))
                   and (not exp.get("container") or f.get("container") == exp["container"])]
        assert matches, (f"expected {exp['reason']} on {obj['name']}"
                         f"{' container ' + exp['container'] if exp.get('container') else ''}; got "
                         f"{[(f['reason'], f['object']['name'], f.get('container')) for f in findings]}")
        f = matches[0]
        if exp.get("owner"):
            assert f.get("owner") and f["owner"]["kind"] == exp["owner"]["kind"] \
                and f["owner"]["name"] == exp["owner"]["name"], f"owner of {exp['reason']}: {f.get('owner')}"
        if exp.get("cause"):
            assert f.get("cause") == exp["cause"], f"cause of {exp['reason']}: {f.get('cause')}"
        text = _text(f)
        for fact in exp.get("mentions") or []:
            assert str(fact) in text, f"{exp['reason']} should mention {fact!r}:\n{text}"
        for fragment in exp.get("suggests") or []:
            assert any(str(fragment) in s for s in f.get("suggestions") or []), \
                f"{exp['reason']} should suggest {fragment!r}: {f.get('suggestions')}"
    wanted = {(e["reason"], e["object"]["name"]) for e in expected}
    surprises = [(f["reason"], f["object"]["name"]) for f in findings
                 if f["severity"] == "error" and (f["reason"], f["object"]["name"]) not in wanted]
    assert not surprises, f"unexpected errors: {surprises}"


def check_run(result, scenario_dir: str, plugin: str):
    """A plugin's `-o json` run on one scenario: exit 1 when problems are expected, else 0, and the
    findings that expected.yaml lists for that plugin."""
    expected = expected_for(scenario_dir, plugin)
    assert result.returncode == (1 if expected else 0), result.stdout[-2000:] + result.stderr
    check(result.json()["findings"], expected)
