#!/usr/bin/env python3
"""The README's example outputs, produced by the commands they show (`make docs`).

    python3 tools/readme_examples.py            rewrite README.md's example outputs in place
    python3 tools/readme_examples.py --check    exit 1 (and show the drift) when they are stale

Every ```console block of README.md is a sequence of `$ COMMAND` lines (a trailing `\\` continues
one), each followed by the output it prints. The command is run as shown — in bash, from the
repository root, with the project's executables first on PATH (`kubectl why` runs
`kubectl-why`, as kubectl's plugin dispatch would), no kubeconfig, no colour — and its output
(stdout and stderr, as a terminal shows them) replaces the lines under it. So every example is
offline (`-f scenarios/...` or a shipped fixture) and reproducible.

An HTML comment right above a block changes that:

    <!-- kdebug:example run="COMMAND" head=N tail=M -->
        run COMMAND instead of the one shown (a live-looking `$ kubectl why deploy/crasher` is
        produced by `kubectl why -f scenarios/02-crashloop-backoff deploy/crasher`); a block with
        no `$` line is the output of COMMAND alone. head/tail keep the first N and last M lines of
        a long output, with one `…` line between them.
    <!-- kdebug:example live="TEST" -->
        a live-only example (timings, the pod proxy): left as written; TEST (path::name) is the
        test that checks its facts against the stand-in API server.

Blocks whose commands print nothing in the README (lists of usage lines) are left alone.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile
from typing import List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
MARKER = re.compile(r"^<!-- kdebug:example (.*?)-->\s*$")
PLUGIN = re.compile(r"\bkubectl (why|oomcheck|probecheck|endpoints-check)\b")
ELLIPSIS = "…"


def _bin_dir() -> str:
    """Where the project's kubectl-* executables are: this interpreter's bin (the venv)."""
    return os.path.dirname(os.path.abspath(sys.executable))


def run_command(command: str, problems: Optional[List[str]] = None) -> str:
    """What COMMAND prints on a terminal (stdout and stderr), run as the README shows it."""
    shell = PLUGIN.sub(lambda m: "kubectl-" + m.group(1).replace("-", "_"), command)
    with tempfile.TemporaryDirectory(prefix="kdebug-docs-") as home:
        env = {"PATH": os.pathsep.join([_bin_dir(), "/usr/local/bin", "/usr/bin", "/bin"]),
               "HOME": home, "LANG": "C.UTF-8", "NO_COLOR": "1", "TERM": "dumb",
               "KUBECONFIG": os.path.join(home, "no-kubeconfig")}
        proc = subprocess.run(["bash", "-c", "exec 2>&1\n" + shell], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    if problems is not None and ("internal error" in proc.stdout or "Traceback" in proc.stdout):
        problems.append(f"`{command}` crashed: {proc.stdout.strip().splitlines()[-1][:200]}")
    return proc.stdout.rstrip("\n")


def _options(text: str) -> dict:
    return {k: v for k, v in (tok.split("=", 1) for tok in shlex.split(text) if "=" in tok)}


def _abridge(lines: List[str], head: Optional[int], tail: Optional[int]) -> List[str]:
    h, t = head or 0, tail or 0
    if (head is None and tail is None) or len(lines) <= h + t + 1:
        return lines
    return lines[:h] + [ELLIPSIS] + (lines[-t:] if t else [])


def _segments(body: List[str]) -> List[Tuple[List[str], List[str]]]:
    """[(command lines, output lines)] of a console block."""
    segs: List[Tuple[List[str], List[str]]] = []
    i = 0
    while i < len(body):
        if body[i].startswith("$ "):
            cmd = [body[i]]
            while cmd[-1].endswith("\\") and i + 1 < len(body):
                i += 1
                cmd.append(body[i])
            segs.append((cmd, []))
        elif segs:
            segs[-1][1].append(body[i])
        else:
            segs.append(([], [body[i]]))
        i += 1
    return segs


def _command_text(cmd_lines: List[str]) -> str:
    text = "\n".join(cmd_lines)[2:]
    return re.sub(r"\\\n\s*", " ", text)


def regenerate(text: str) -> Tuple[str, List[str]]:
    """(README with every example output regenerated, [problems found])."""
    lines = text.split("\n")
    out: List[str] = []
    problems: List[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != "```console":
            out.append(line)
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            problems.append(f"README.md:{i + 1}: unclosed console block")
            out.extend(lines[i:])
            break
        body = lines[i + 1:end]
        marker = MARKER.match(out[-1]) if out else None
        opts = _options(marker.group(1)) if marker else {}
        out.append(line)
        out.extend(_render_block(body, opts, i + 1, problems))
        out.append(lines[end])
        i = end + 1
    return "\n".join(out), problems


def _render_block(body: List[str], opts: dict, lineno: int, problems: List[str]) -> List[str]:
    if "live" in opts:
        test = opts["live"]
        path, _, name = test.partition("::")
        try:
            with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
                if f"def {name}(" not in fh.read():
                    problems.append(f"README.md:{lineno}: live example: no test {test}")
        except OSError:
            problems.append(f"README.md:{lineno}: live example: no test file {path}")
        return body
    head = int(opts["head"]) if "head" in opts else None
    tail = int(opts["tail"]) if "tail" in opts else None
    segs = _segments(body)
    if "run" in opts:
        output = _abridge(run_command(opts["run"], problems).split("\n"), head, tail)
        if segs and segs[0][0]:
            return segs[0][0] + output
        return output
    if segs and not segs[0][0]:
        problems.append(f"README.md:{lineno}: output without a command: say which command produces "
                        f"it (kdebug:example run=...)")
        return body
    if not any(cmd and output for cmd, output in segs):
        return body  # usage lines, no output to check
    rendered: List[str] = []
    for cmd, output in segs:
        if not cmd:
            problems.append(f"README.md:{lineno}: output without a command and without a "
                            f"kdebug:example marker")
            rendered += output
            continue
        if output and not re.search(r"(^|\s)(-f|--filename)[\s=]", _command_text(cmd)):
            problems.append(f"README.md:{lineno}: `{_command_text(cmd)}` would need a cluster: give "
                            f"the offline command that produces it (kdebug:example run=...)")
            rendered += cmd + output
            continue
        rendered += cmd
        if output or len(segs) == 1:
            rendered += _abridge(run_command(_command_text(cmd), problems).split("\n"), head, tail)
    return rendered


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    new, problems = regenerate(text)
    for p in problems:
        print(p, file=sys.stderr)
    if problems and "--check" not in argv:
        print("README.md left as it is", file=sys.stderr)
        return 1
    if "--check" in argv:
        if new != text:
            import difflib
            diff = difflib.unified_diff(text.split("\n"), new.split("\n"), "README.md", "regenerated",
                                        lineterm="", n=1)
            print("\n".join(list(diff)[:80]))
            print("README.md's example outputs are out of date: run `make docs`", file=sys.stderr)
            return 1
        return 1 if problems else 0
    if new != text:
        with open(README, "w", encoding="utf-8") as fh:
            fh.write(new)
        print("README.md: example outputs regenerated")
    else:
        print("README.md: example outputs already current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
