"""Running `workbench` in-process in tests, and the one-line error rule every command keeps."""
from __future__ import annotations

from types import SimpleNamespace

from workbench.cli import main


def invoke(capsys, *args):
    """Run the CLI with these arguments: exit_code, output (stdout) and err (stderr)."""
    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return SimpleNamespace(exit_code=code, output=captured.out, err=captured.err)


def one_line_error(result, *needles):
    """Exit 2 with exactly one 'error: ...' line on stderr holding every needle, and no traceback."""
    assert result.exit_code == 2, (result.output, result.err)
    assert "Traceback" not in result.output + result.err and "internal error" not in result.err
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
