"""The README documents every reason code the catalogue defines (docs stay in step with code)."""

import os
import re

from kdebug_core.catalogue import REASONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_reason_code_is_documented_in_the_readme():
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    headings = {h.strip().lower() for h in re.findall(r"^#{2,4} (.+)$", readme, re.M)}
    for code, reason in REASONS.items():
        assert reason.anchor.lstrip("#") in headings or f"`{code}`" in readme, code


def test_the_readme_opens_with_the_two_commands():
    with open(os.path.join(ROOT, "README.md")) as fh:
        head = fh.read(600)
    assert "make demo" in head and "make test" in head


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(ROOT, ".ci", "run")) as fh:
        assert "\nmake test\n" in fh.read()
