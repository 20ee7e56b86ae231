"""One sanitiser for everything printed: controls, escape sequences and invisible/bidi characters
from the cluster never reach the terminal as themselves (stdout or stderr)."""

import io
import unicodedata

import pytest

from kdebug_core import main
from kdebug_core.errors import NotFoundError
from kdebug_core.sanitize import clean, one_line


def test_escape_sequences_and_controls_become_visible():
    # OSC 52 (clipboard write), a cursor move and a carriage return that would overwrite the line.
    text = "ok\x1b]52;c;ZXZpbA==\x07 \x1b[2J\rpwned\x9b"
    out = clean(text)
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\x9b" not in out
    assert out == "ok^[]52;c;ZXZpbA==\\x07 ^[[2J\\x0dpwned\\x9b"


@pytest.mark.parametrize("ch", ["\u202e", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069",
                                "\u200e", "\u200f", "\u200b", "\ufeff", "\u061c", "\U000e0041"])
def test_bidi_and_invisible_format_characters_become_visible(ch):
    # "pod/evil\u202eelif.txt" would display reversed on a bidi-aware terminal.
    out = clean(f"pod/evil{ch}x")
    assert ch not in out
    assert out.startswith("pod/evil\\u") or out.startswith("pod/evil\\U")


def test_every_format_character_this_python_knows_is_covered():
    # The sanitiser lists Unicode 15's Cf characters by hand (no 1.1M-code-point scan at start-up);
    # this checks the list against the running interpreter's Unicode database.
    missed = [hex(c) for c in range(0x110000)
              if unicodedata.category(chr(c)) in ("Cf", "Cc", "Zl", "Zp", "Cs")
              and chr(c) not in "\t\n" and clean(chr(c)) == chr(c)]
    assert missed == []


def test_ordinary_text_is_untouched():
    text = "Back-off restarting failed container app in pod web-1_shop(1f2e) — 日本語 ✓"
    assert clean(text) == text


def test_lone_surrogate_is_escaped_not_an_encoding_crash():
    out = clean("name-\ud800")
    out.encode("utf-8")  # would raise UnicodeEncodeError if the surrogate stayed
    assert out == "name-\\ud800"


def test_one_line_folds_a_multi_line_body_and_cuts_it():
    body = "<html>\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n" + "x" * 1000 + "</body>"
    out = one_line(body, limit=80)
    assert "\n" not in out and "\r" not in out and len(out) == 80 and out.endswith("…")
    assert out.startswith("<html> <head><title>502 Bad Gateway</title></head> <body> xxx")


def _run_with_error(monkeypatch, exc):
    def boom(*args, **kwargs):
        raise exc
    monkeypatch.setattr(main, "_run", boom)
    out, err = io.StringIO(), io.StringIO()
    code = main.run("why", ["-f", "-", "pod/x"], io.StringIO(""), out, err)
    return code, err.getvalue()


def test_error_lines_on_stderr_are_sanitised_and_one_line(monkeypatch):
    # A "did you mean" hint echoes names from the cluster; a hostile one carries ESC and bidi.
    hostile = 'pod "web" not found in namespace shop; did you mean web\u202e1\x1b[31m,\nweb\r2?'
    code, err = _run_with_error(monkeypatch, NotFoundError(hostile))
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "\x1b" not in err and "\u202e" not in err and "\r" not in err
    assert err.startswith('error: pod "web" not found in namespace shop; did you mean web\\u202e1^[[31m, web')


def test_an_internal_error_message_is_sanitised_too(monkeypatch):
    monkeypatch.delenv("KDEBUG_DEBUG", raising=False)
    code, err = _run_with_error(monkeypatch, ValueError("bad\x1b]0;title\x07\nsecond line"))
    assert code == 2 and err.count("\n") == 1
    assert "\x1b" not in err and "\x07" not in err
    assert "internal error: ValueError: bad^[]0;title\\x07 second line" in err



def test_json_output_can_be_made_terminal_safe_without_changing_its_data():
    import json
    from kdebug_core.sanitize import json_safe
    data = {"m": "a\x1b[2J\x9b\u202eb\u2066c 日本語 \U000e0041 \ud800"}
    text = json_safe(json.dumps(data, ensure_ascii=False))
    assert all(ch not in text for ch in "\x1b\x9b\u202e\u2066\U000e0041\ud800")
    assert "日本語" in text
    assert json.loads(text) == data
    text.encode("utf-8")


def test_yaml_output_can_be_made_terminal_safe_without_changing_its_data():
    import yaml
    from kdebug_core.sanitize import yaml_safe_dump
    data = {"m": "evil\u202eb", "n": "日本語"}
    text = yaml_safe_dump(data, sort_keys=False)
    assert "\u202e" not in text and yaml.safe_load(text) == data
    assert yaml_safe_dump({"n": "日本語"}) == "n: 日本語\n"
