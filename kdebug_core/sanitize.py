"""Neutralise control and escape sequences in cluster-supplied text before it reaches a terminal.

Names, messages and logs come from whoever can write to the cluster. A log line carrying
`ESC ] 52 ;` (clipboard write) or a cursor move could otherwise act on the reader's terminal.
"""

import re

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, which some terminals honour).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: "re.Match") -> str:
    ch = match.group(0)
    return "^[" if ch == "\x1b" else "\\x%02x" % ord(ch)


def clean(text, keep_newlines: bool = False) -> str:
    """Printable version of `text`: ESC becomes `^[`, other controls `\\xNN`; newlines optional."""
    if text is None:
        return ""
    s = str(text).replace("\r\n", "\n")
    if not keep_newlines:
        s = s.strip("\n").replace("\n", " ⏎ ")
    s = s.replace("\t", "    ")
    return _CONTROL.sub(_visible, s)
