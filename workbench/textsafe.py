"""Text from files, options and data shown on a terminal: control, escape and bidi characters made visible.

A file name may carry ANSI escape codes (clearing the screen, forging a line) or bidi overrides; every line
the CLI prints that can hold such text passes through `terminal_safe`, so it shows as `\\x1b`, not as an effect.
Rich markup (`[bold]`) is switched off on the CLI consoles (workbench/commands/common.py) for the same reason.
"""
from __future__ import annotations

import re

# C0 controls (but tab), DEL, C1 controls, and the Unicode direction marks/overrides/isolates.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object, keep_newlines: bool = False) -> str:
    """`text` with every control or direction character written as an escape (newlines too, unless kept)."""
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    return pattern.sub(_visible, str(text))
