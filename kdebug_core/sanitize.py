"""Neutralise control and escape sequences in cluster-supplied text before it reaches a terminal.

Names, messages and logs come from whoever can write to the cluster. A log line carrying
`ESC ] 52 ;` (clipboard write) or a cursor move could otherwise act on the reader's terminal, and a
bidi override (U+202E) or an isolate (U+2066-U+2069) could make `pod/evil` display as something
else. Everything printed on stdout *and* stderr goes through `clean` (renderers for reports,
`main` for error lines).

Made visible, not dropped, so the reader sees that something was there:
* ESC                        -> `^[`
* other C0 controls, DEL, C1 -> `\\xNN`   (tab becomes four spaces; newline optional)
* format characters (Unicode category Cf: bidi marks, embeddings, overrides and isolates,
  zero-width spaces and joiners, the BOM, invisible operators, tags), line and paragraph
  separators (U+2028, U+2029) and lone surrogates -> `\\uXXXX` / `\\UXXXXXXXX`
"""

import re

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, which some terminals honour).
_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
# Unicode category Cf (Unicode 15; tests/core/test_sanitize.py checks this list against the
# running Python's unicodedata), Zl/Zp, and surrogates (a JSON string may carry a lone one, which
# the terminal's encoder would choke on).
_FORMAT = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
           "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
           "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile(f"[{_CONTROL}{_FORMAT}]")

# One line of at most this many characters for an error body a server sent (see `one_line`).
ONE_LINE_MAX = 300


def _visible(match: "re.Match") -> str:
    ch = match.group(0)
    code = ord(ch)
    if ch == "\x1b":
        return "^["
    if code <= 0x9f:
        return "\\x%02x" % code
    return "\\u%04x" % code if code <= 0xffff else "\\U%08x" % code


def clean(text, keep_newlines: bool = False) -> str:
    """Printable version of `text`: ESC becomes `^[`, other controls `\\xNN`, invisible and bidi
    format characters `\\uXXXX`; newlines kept only when asked (else ` ⏎ `)."""
    if text is None:
        return ""
    s = str(text).replace("\r\n", "\n")
    if not keep_newlines:
        s = s.strip("\n").replace("\n", " ⏎ ")
    s = s.replace("\t", "    ")
    return _UNSAFE.sub(_visible, s)


def one_line(text, limit: int = ONE_LINE_MAX) -> str:
    """A server's free text as one short, safe line: whitespace runs (newlines included) folded to
    one space, controls made visible, cut at `limit` characters with an ellipsis."""
    if text is None:
        return ""
    s = " ".join(str(text).split())
    s = clean(s)
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def _json_escape(match: "re.Match") -> str:
    code = ord(match.group(0))
    if code > 0xffff:  # JSON spells an astral character as its UTF-16 surrogate pair
        code -= 0x10000
        return "\\u%04x\\u%04x" % (0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff))
    return "\\u%04x" % code


def json_safe(text: str) -> str:
    """Serialised JSON (`json.dumps(..., ensure_ascii=False)`) with every character `clean` would
    make visible written as a `\\uXXXX` escape instead: the same data for a JSON reader, nothing
    for a terminal to act on. Such characters can only occur inside JSON strings, where the
    escape is valid."""
    return _UNSAFE.sub(_json_escape, text)


def yaml_safe_dump(data, **kwargs) -> str:
    """`yaml.safe_dump` with `allow_unicode=True` unless the document holds a character `clean`
    would make visible: then the ASCII form, in which YAML escapes it in a double-quoted string."""
    import yaml

    out = yaml.safe_dump(data, allow_unicode=True, **kwargs)
    if _UNSAFE.search(out):
        out = yaml.safe_dump(data, allow_unicode=False, **kwargs)
    return out
