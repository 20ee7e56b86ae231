#!/usr/bin/env python3
"""Generate the man pages, man/kubectl-<name>.1, from the plugins' real parsers (argparse-manpage).

    python tools/build_man.py [--out man]          (`make man` runs this in the project venv)

Each page is argparse-manpage's rendering of `kdebug_core.cli.build_parser(name)`, the parser the
plugin runs with, so every flag and its help text are the ones `--help` prints. The pages are
named after the command a person types (`man kubectl-why`, `man kubectl-endpoints-check`);
`kubectl-endpoints_check.1`, the executable's name, is a `.so` link to the latter.

The `.TH` date is SOURCE_DATE_EPOCH's day when set, else today; a page whose only change would be
that date is left as it is, so regenerating unchanged parsers changes no file.

setup.cfg installs man/*.1 to share/man/man1 (so `man kubectl-why` works after `pip install .` or
`pipx install .`), and the Krew archive carries them in man/.
"""

import argparse
import datetime
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

ENVIRONMENT = (
    ".TP\n\\fBKUBECONFIG\\fR\nkubeconfig files to read (':'-separated), as for kubectl; "
    "\\fB--kubeconfig\\fR wins over it.\n"
    ".TP\n\\fBNO_COLOR\\fR\nwhen set, no colours in text output.\n"
)


def page_name(plugin: str) -> str:
    return f"kubectl-{plugin}"


def _date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.strftime("%Y-%m-%d")


def render(plugin: str, date: str = None) -> str:
    """The man page of one plugin, as groff text."""
    from argparse_manpage.manpage import Manpage

    from kdebug_core import __version__
    from kdebug_core.cli import build_parser
    from kdebug_core.plugins import PLUGINS

    spec = PLUGINS[plugin]
    parser = build_parser(plugin)
    page = Manpage(parser)
    # The usage line keeps `kubectl why ...`; title and NAME carry the page's own name.
    page.prog = page_name(plugin)
    page.description = spec.summary
    page.date = date or _date()
    page.source = f"kdebug {__version__}"
    page.manual = "kdebug manual"
    others = [page_name(p) for p in PLUGINS if p != plugin]
    page.add_section("environment", ">", ENVIRONMENT.strip())
    page.add_section("see also", ">", ",\n".join(f"\\fB{o}\\fR(1)" for o in others + ["kubectl"]))
    return str(page)


def _without_date(text: str) -> str:
    return re.sub(r'(?m)^(\.TH \S+ "\d+" )"[^"]*"', r'\1""', text)


def write_pages(out_dir: str):
    from kdebug_core.plugins import PLUGINS

    os.makedirs(out_dir, exist_ok=True)
    written = []
    for plugin, spec in PLUGINS.items():
        path = os.path.join(out_dir, page_name(plugin) + ".1")
        text = render(plugin)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                old = fh.read()
        if old is None or _without_date(old) != _without_date(text):
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            written.append(path)
        if spec.executable != page_name(plugin):
            alias = os.path.join(out_dir, spec.executable + ".1")
            link = f".so man1/{page_name(plugin)}.1\n"
            if not os.path.exists(alias) or open(alias, encoding="utf-8").read() != link:
                with open(alias, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(link)
                written.append(alias)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "man"), help="output directory (man/)")
    args = ap.parse_args(argv)
    written = write_pages(args.out)
    for path in written:
        print(f"wrote {os.path.relpath(path)}")
    if not written:
        print("man pages are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
