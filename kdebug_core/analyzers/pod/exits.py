"""What a container's exit code means, and which lines of its log matter.

Shared by the crash-loop, init-container and OOM analyzers: the same exit code must be explained
the same way wherever it appears.
"""

import re
import signal
from typing import List, Optional

_MEANINGS = {
    0: "exited successfully (a long-running container should not exit at all)",
    1: "application error (the process exited with status 1)",
    2: "misuse of a shell builtin or invalid command-line arguments",
    126: "command found but not executable (permission or format problem)",
    127: "command not found (typo in command/args, or missing from the image's PATH)",
    128: "the runtime could not start the process (invalid exit argument or start failure)",
    132: "illegal instruction, SIGILL (128+4): the process crashed running a CPU instruction this node "
         "does not have (a binary built for a newer CPU)",
    134: "aborted, SIGABRT (128+6): the process crashed itself (a failed assertion, abort(), a fatal "
         "error in the C/C++ runtime, glibc or the JVM)",
    135: "bus error, SIGBUS (128+7): the process crashed on a bad memory access (often a memory-mapped "
         "file that shrank, or /dev/shm too small)",
    136: "floating-point exception, SIGFPE (128+8): the process crashed on an arithmetic error "
         "(an integer division by zero)",
    137: "killed with SIGKILL (128+9): the OOM killer, a failed liveness probe, or an external kill",
    139: "segmentation fault, SIGSEGV (128+11): the process crashed on a bad memory access",
    143: "terminated with SIGTERM (128+15): asked to stop (shutdown, liveness probe, preStop)",
    255: "exit status out of range (exit(-1)) or a fatal runtime error",
}


# Signals by which a process crashes itself (a fault in the process), as opposed to signals sent to it
# from outside (SIGKILL, SIGTERM, SIGINT...) and to exit statuses the application chose.
CRASH_SIGNALS = {"SIGSEGV", "SIGABRT", "SIGFPE", "SIGBUS", "SIGILL", "SIGSYS", "SIGTRAP"}


def signal_of(code: Optional[int]) -> Optional[str]:
    """`SIGSEGV` for exit 139: the runtimes report death by signal N as exit status 128+N."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        return None
    if not 128 < code < 128 + 65:
        return None
    try:
        return signal.Signals(code - 128).name
    except ValueError:
        return f"signal {code - 128}"


def is_crash(code: Optional[int]) -> bool:
    """The process died of its own fault (SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL...), not an
    application error it reported and not a signal sent to it from outside."""
    return signal_of(code) in CRASH_SIGNALS


def exit_kind(code: Optional[int]) -> Optional[str]:
    """"crash" (a fatal signal of the process's own making), "signal" (killed or stopped from outside),
    "application" (an exit status the program chose), None when unknown."""
    if code is None:
        return None
    if is_crash(code):
        return "crash"
    if signal_of(code):
        return "signal"
    return "application"


def exit_code_meaning(code: Optional[int]) -> str:
    if code is None:
        return "unknown exit code"
    code = int(code)
    if code in _MEANINGS:
        return _MEANINGS[code]
    if 128 < code < 128 + 65:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        if name in CRASH_SIGNALS:
            return f"crashed with {name} (128+{code - 128}): a fault of the process itself"
        return f"killed by {name} (128+{code - 128})"
    return f"application-defined exit status {code}"


# Lines worth showing from a crashed container's log: tracebacks, panics, errors, kills.
_ERROR_LINE = re.compile(
    r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+|^\w*(Error|Exception)\b.*:|"
    r"\bpanic:|goroutine \d+ \[|\bfatal\b|\bFATAL\b|\bERROR\b|\bError\b|\berror:|"
    r"\bKilled\b|\bexception\b|\bSegmentation fault\b|\bFAIL\b|\bcannot\b|\bfailed\b",
)


def error_lines(log: Optional[str], limit: int = 8) -> List[str]:
    """The lines that look like the failure: a traceback's last frames, panics, 'Error', 'Killed'."""
    if not log:
        return []
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    picked = [line for line in lines if _ERROR_LINE.search(line)]
    # For a Python traceback the last line is the exception itself: always keep it.
    if any("Traceback (most recent call last)" in line for line in lines) and lines:
        if lines[-1] not in picked:
            picked.append(lines[-1])
    return picked[-limit:]


def log_tail(log: Optional[str], lines: int = 10) -> List[str]:
    if not log:
        return []
    return [line.rstrip() for line in log.splitlines() if line.strip()][-lines:]
