"""Entry points of the four executables. Each is one line: the plugin's name."""

import os
import sys

from .errors import EXIT_OK, EXIT_USAGE, KdebugError
from .sanitize import one_line

# Error lines go through the same sanitiser as the report (names and server messages in them come
# from the cluster): one line, controls and bidi characters made visible.
ERROR_LINE_MAX = 1000


def run(name: str, argv=None, stdin=None, stdout=None, stderr=None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    from .cli import Options, build_parser
    from .plugins import PLUGINS

    spec = PLUGINS[name]
    try:
        parser = build_parser(name)
        args = parser.parse_args(argv)
        opts = Options.from_args(spec, args).complete(stdout).validate()
        exit_code = _run(opts, stdin, stdout, stderr)
    except KdebugError as exc:
        print(f"error: {one_line(exc, ERROR_LINE_MAX)}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kubectl why -A | head`: the reader left; nothing to report.
        try:
            sys.stdout = None
        except Exception:
            pass
        return EXIT_OK
    except Exception as exc:  # a bug: still one line, never a traceback (unless asked for)
        if os.environ.get("KDEBUG_DEBUG"):
            raise
        print(f"error: internal error: {type(exc).__name__}: {one_line(exc)} (run with "
              f"KDEBUG_DEBUG=1 for the traceback and please report it)", file=stderr)
        return EXIT_USAGE
    return exit_code


def _run(opts, stdin, stdout, stderr=None) -> int:
    from . import engine
    from .render import render

    view, targets, namespace = engine.open_view(opts, stdin)
    from .subjects import build_report  # pods, workloads, Services, Ingresses, nodes: one registry
    report = build_report(view, opts, targets, namespace)
    # Lines of a stdin batch whose objects are gone: one error line each, the rest diagnosed.
    report.missing_targets = list(view.missing_targets)
    for message in report.missing_targets:
        print(f"error: {one_line(message, ERROR_LINE_MAX)}", file=stderr or sys.stderr)
    for note in getattr(view.backend, "notes", ()):  # objects the source left out (sources/shape.py)
        if note not in report.notes:
            report.notes.append(note)
    stdout.write(render(report, opts.output, opts.color, opts.plugin.name))
    stdout.flush()
    return report.exit_code()


def why():
    sys.exit(run("why"))


def endpoints_check():
    sys.exit(run("endpoints-check"))


def oomcheck():
    sys.exit(run("oomcheck"))


def probecheck():
    sys.exit(run("probecheck"))
