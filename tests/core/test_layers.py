"""Arrows point one way: plugins → core (cli, engine, subjects, services) → analyzers → view.

An analyzer judges plain dicts through the view; it never imports the engine, the subject
registry, the sources or the renderers (a chain into pods is a function passed in).
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANALYZERS = os.path.join(ROOT, "kdebug_core", "analyzers")
ABOVE = {"engine", "subjects", "services", "main", "cli", "render", "sources", "plugins", "completion"}


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    rel = os.path.relpath(path, os.path.join(ROOT, "kdebug_core"))
    depth = rel.count(os.sep)  # analyzers/x.py → 1, analyzers/workload/x.py → 2
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mod = node.module or ""
                if mod.startswith("kdebug_core."):
                    yield mod.split(".")[1], node.lineno
            elif node.level > depth:  # climbs out of kdebug_core/analyzers into kdebug_core
                mod = (node.module or "").split(".")[0]
                if mod:
                    yield mod, node.lineno
                else:
                    for alias in node.names:
                        yield alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kdebug_core."):
                    yield alias.name.split(".")[1], node.lineno


def test_no_analyzer_imports_upwards():
    wrong = []
    for folder, _dirs, files in os.walk(ANALYZERS):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                for mod, line in _imports(path):
                    if mod in ABOVE:
                        wrong.append(f"{os.path.relpath(path, ROOT)}:{line} imports {mod}")
    assert not wrong, wrong


def test_the_checker_sees_an_upward_import(tmp_path):
    # the test above can fail: a module that climbs to the engine is caught
    bad = tmp_path / "kdebug_core" / "analyzers" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from ..engine import analyze_pod\n")
    global ROOT
    saved, ROOT = ROOT, str(tmp_path)
    try:
        assert list(_imports(str(bad))) == [("engine", 1)]
    finally:
        ROOT = saved
