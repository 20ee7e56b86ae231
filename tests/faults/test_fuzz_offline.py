"""Deterministic fuzz over the offline path: mutated pods, events, Services, nodes (and the objects
beside them) from the scenarios, run through the four plugins' entry points. Whatever the mutation,
a run ends with a report or one error line: never a traceback, never `internal error`, and an exit
code of the SPEC's (0, 1, 2, 3). Fixed seed: a failure names its case and reproduces."""

import copy
import io
import json
import os
import random

import pytest
import yaml

from kdebug_core.main import run
from kdebug_core.sources.files import load
from tests.e2e.conftest import SCENARIOS

SEED = 20261205
CASES = 500
TARGET_KINDS = ("Pod", "Event", "Service", "Node", "EndpointSlice", "ReplicaSet", "Deployment")
JUNK = [None, "", "x", "\x1b[31mred\u202e", 0, -1, 7, 10 ** 20, 3.5, True, False, [], {}, ["x"], [None],
        [1, 2], {"a": 1}, {"name": 5}, "999999999999Gi", "-5Mi", "2026-13-45T99:99:99Z"]


def _scenarios():
    out = []
    for name in sorted(os.listdir(SCENARIOS)):
        path = os.path.join(SCENARIOS, name, "expected.yaml")
        if os.path.isfile(path):
            with open(path) as fh:
                plugins = sorted((yaml.safe_load(fh) or {}).keys())
            loaded = load([os.path.join(SCENARIOS, name)])
            objects = [json.loads(json.dumps(o, default=str)) for o in loaded.objects.values()]
            out.append((name, plugins, objects))
    return out


def _paths(value, prefix=()):
    """Every (path) to a value inside `value`."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _mutate(rng: random.Random, obj: dict) -> str:
    paths = [p for p in _paths(obj) if p]
    path = rng.choice(paths)
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    how = rng.random()
    if how < 0.15 and isinstance(parent, dict):
        del parent[last]
        return f"del {path}"
    junk = copy.deepcopy(rng.choice(JUNK))
    parent[last] = junk
    return f"{path} = {junk!r}"


def _cases():
    rng = random.Random(SEED)
    scenarios = _scenarios()
    cases = []
    for index in range(CASES):
        name, plugins, objects = rng.choice(scenarios)
        objects = copy.deepcopy(objects)
        targets = [o for o in objects if o.get("kind") in TARGET_KINDS]
        pods = [o for o in targets if o["kind"] == "Pod"]
        what = []
        for _ in range(1 if rng.random() < 0.7 else 2):  # sometimes two mutations
            # Half of them on a pod: the object every pod analyzer reads most of.
            victim = rng.choice(pods if pods and rng.random() < 0.5 else targets)
            meta = victim.get('metadata') if isinstance(victim.get('metadata'), dict) else {}
            label = f"{victim.get('kind')}/{meta.get('name')}"
            what.append(f"{label}: {_mutate(rng, victim)}")
        plugin = rng.choice(plugins)
        output = rng.choice(["json", "json", "text", "wide"])
        cases.append((index, name, plugin, output, objects, "; ".join(what)))
    return cases


def test_no_mutation_gives_a_traceback_or_an_internal_error(tmp_path):
    failures = []
    for index, name, plugin, output, objects, what in _cases():
        path = tmp_path / f"case-{index}.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        out, err = io.StringIO(), io.StringIO()
        try:
            code = run(plugin, ["-f", str(path), "-A", "-o", output], io.StringIO(""), out, err)
        except BaseException as exc:  # run() must not let anything out
            failures.append(f"case {index} ({name}, {plugin}, {what}): raised {exc!r}")
            continue
        text = out.getvalue() + err.getvalue()
        if code not in (0, 1, 2, 3) or "internal error" in text or "Traceback" in text:
            failures.append(f"case {index} ({name}, {plugin} -o {output}, {what}): exit {code}: "
                            f"{err.getvalue().strip()[:300]} "
                            f"{[line for line in out.getvalue().splitlines() if 'internal error' in line][:2]}")
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n" + "\n".join(failures)
