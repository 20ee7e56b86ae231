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


def test_every_readme_example_is_the_output_of_its_command():
    """Each ```console block shows what its command prints today (tools/readme_examples.py runs
    them all, offline, and compares); `make docs` rewrites the outputs after a change."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("readme_examples",
                                                  os.path.join(ROOT, "tools", "readme_examples.py"))
    examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(examples)
    with open(os.path.join(ROOT, "README.md")) as fh:
        text = fh.read()
    new, problems = examples.regenerate(text)
    assert not problems, "\n".join(problems)
    if new != text:
        import difflib
        diff = "\n".join(list(difflib.unified_diff(text.split("\n"), new.split("\n"), "README.md",
                                                   "what the commands print now", lineterm="", n=1))[:60])
        raise AssertionError("README.md's example outputs are out of date: run `make docs`\n" + diff)
    generated = text.count("```console")
    assert generated >= 15


def test_the_readme_flags_agree_with_help():
    """Every flag the parsers define is in the README's flags table, with --logs' default as --help
    states it."""
    from kdebug_core.cli import SCAN_LOG_BUDGET, build_parser
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    table = readme[readme.index("### Flags"):readme.index("### Offline input")]
    for name in ("why", "probecheck"):
        for action in build_parser(name)._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}" in table or f", {opt}" in table, f"{opt} is not in the README's flags table"
    help_text = build_parser("why").format_help()
    assert f"(default: {SCAN_LOG_BUDGET} pods, the most severe" in " ".join(help_text.split())
    logs_row = next(line for line in table.splitlines() if line.startswith("| `--logs`"))
    assert f"default: {SCAN_LOG_BUDGET} pods, the most severe first" in logs_row


def test_the_readme_introduces_the_runbook_and_the_report_before_naming_them():
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    intro = readme.index("<!-- kdebug:terms -->")
    for term in ("runbook", "the report"):
        first = re.search(rf"\b{term}\b", readme, re.I).start()
        assert first >= intro, f"'{term}' is used (at {first}) before the README introduces it"


def test_readme_examples_read_files_that_are_shipped():
    """An example with output reads files the repository ships (no `-f dump.json` nobody has);
    usage lists (commands without output) may show placeholders like `-f cluster-dump/`."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("readme_examples",
                                                  os.path.join(ROOT, "tools", "readme_examples.py"))
    examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(examples)
    with open(os.path.join(ROOT, "README.md")) as fh:
        blocks = re.findall(r"```console\n(.*?)```", fh.read(), re.S)
    checked = 0
    for block in blocks:
        for cmd, output in examples._segments(block.rstrip("\n").split("\n")):
            if cmd and output:
                for path in re.findall(r"(?:^|\s)-f (\S+)", examples._command_text(cmd)):
                    checked += 1
                    assert os.path.exists(os.path.join(ROOT, path)), \
                        f"README example reads {path}, which is not shipped"
    assert checked >= 10
