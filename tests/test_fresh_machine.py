"""A fresh machine: `make demo` installs what its steps need (the browser included), the browser install
is non-interactive as root and not, and PNG verbs degrade to one warning line when chromium is missing.

PNGs are the optional products (chromium draws them); HTML maps, briefings, CSV tables and the PDF briefing
(weasyprint, no browser) are required, so a verb without chromium still writes those and exits 0.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

INSTALL_SCRIPT = REPO / "scripts" / "install_chromium.sh"
FIXTURES = REPO / "tests" / "ingest_fixtures"
_RULE = re.compile(r"^([^\s#:=][^:=]*?):(?![=:])\s*(.*)$")


# -- the Makefile's own graph ---------------------------------------------------------------------------
def _make_database() -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """Prerequisites (normal and order-only) and recipe lines of every target, from `make -p`."""
    out = subprocess.run(["make", "-pqR", "-f", str(REPO / "Makefile")], cwd=REPO, capture_output=True,
                         text=True, timeout=60).stdout
    prereqs: dict[str, set[str]] = {}
    recipes: dict[str, list[str]] = {}
    current = None
    in_files = False
    for line in out.splitlines():
        if line.startswith("# Files"):
            in_files = True
            continue
        if not in_files:
            continue
        if line.startswith("\t") and current:
            recipes[current].append(line[1:])
            continue
        if not line.strip():
            current = None
            continue
        match = _RULE.match(line)
        if match and not line.startswith("#"):
            current = match.group(1).strip()
            prereqs.setdefault(current, set()).update(match.group(2).replace("|", " ").split())
            recipes.setdefault(current, [])
    return prereqs, recipes


def _closure(graph: dict[str, set[str]], target: str) -> set[str]:
    seen, stack = set(), [target]
    while stack:
        for dep in graph.get(stack.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def _target_running(recipes: dict[str, list[str]], needle: str) -> str:
    found = [t for t, lines in recipes.items() if any(needle in line for line in lines)]
    assert len(found) == 1, f"expected one Makefile target running {needle}, found {found}"
    return found[0]


def _demo_steps() -> list[list[str]]:
    """The workbench commands `make demo` runs, expanded, as a clean machine would run them (-B: all out of date)."""
    out = subprocess.run(["make", "-n", "-B", "demo"], cwd=REPO, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "MAKEFLAGS": ""}).stdout
    return [line.split() for line in out.splitlines() if line.startswith(".venv/bin/workbench ")]


def _click_command(words: list[str]):
    import typer.main

    from workbench.cli import app

    command = typer.main.get_command(app)
    for word in words[1:]:
        if word.startswith("-") or not hasattr(command, "commands") or word not in command.commands:
            break
        command = command.commands[word]
    return command


def test_demo_prerequisites_cover_what_its_steps_need():
    prereqs, recipes = _make_database()
    venv = _target_running(recipes, "-c constraints.txt -e '.[dev]'")   # (make mutation installs its extra too)
    browser = _target_running(recipes, "install_chromium.sh")
    assets = _target_running(recipes, "fetch_map_assets.py")
    steps = _demo_steps()
    assert len(steps) >= 5, steps
    needed = {venv}                                       # every step runs .venv/bin/workbench
    for step in steps:
        options = {opt for param in _click_command(step).params for opt in getattr(param, "opts", [])}
        if "--png" in options:                            # a map product: inlined JS/CSS, and a PNG unless --no-png
            needed.add(assets)
            if "--no-png" not in step:
                needed.add(browser)
    assert browser in needed, "the demo writes PNGs, so it needs the browser"
    missing = needed - _closure(prereqs, "demo")
    assert not missing, f"make demo runs steps needing {sorted(missing)} but does not depend on them"


def test_make_test_and_demo_both_install_the_browser():
    prereqs, recipes = _make_database()
    browser = _target_running(recipes, "install_chromium.sh")
    for target in ("demo", "test"):
        assert browser in _closure(prereqs, target), target


# -- scripts/install_chromium.sh with stub commands -------------------------------------------------
def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _run_install(tmp_path, uid: int, sudo: bool = False, apt_fails: bool = False, has_chromium: bool = False,
                 ci: bool = False):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("env", "true"):
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    _stub(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}\n')
    chromium = f'printf "#!/bin/sh\\n" > "{bin_dir}/chromium"; /bin/chmod +x "{bin_dir}/chromium"'
    _stub(bin_dir, "apt-get",
          f'echo "apt-get FRONTEND=$DEBIAN_FRONTEND tty=$([ -t 0 ] && echo yes || echo no) $*" >> "{log}"\n'
          + ("exit 100\n" if apt_fails else f'[ "$1" = install ] && {{ {chromium}; }}\nexit 0\n'))
    if sudo:
        _stub(bin_dir, "sudo", f'echo "sudo $*" >> "{log}"\n[ "$1" = -n ] || exit 1\nshift\nexec "$@"\n')
    if has_chromium:
        _stub(bin_dir, "chromium", "exit 0\n")
    env = {"PATH": str(bin_dir), **({"CI": "true"} if ci else {})}
    proc = subprocess.run(["/bin/sh", str(INSTALL_SCRIPT)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls, (bin_dir / "chromium").exists()


def test_browser_install_as_root_is_non_interactive(tmp_path):
    proc, calls, installed = _run_install(tmp_path, uid=0)
    assert proc.returncode == 0, proc.stderr
    assert installed and proc.stderr == ""
    install = [c for c in calls if " install " in f" {c} "]
    assert len(install) == 1 and "-y" in install[0].split() and "chromium" in install[0].split()
    assert all("FRONTEND=noninteractive" in c and "tty=no" in c for c in calls if c.startswith("apt-get"))
    assert not any(c.startswith("sudo") for c in calls)


def test_browser_install_as_user_uses_sudo_without_prompt(tmp_path):
    proc, calls, installed = _run_install(tmp_path, uid=1000, sudo=True)
    assert proc.returncode == 0, proc.stderr
    assert installed
    sudo_calls = [c for c in calls if c.startswith("sudo ")]
    assert sudo_calls and all(c.split()[1] == "-n" for c in sudo_calls)
    assert any("apt-get" in c and "install" in c for c in sudo_calls)
    assert all("FRONTEND=noninteractive" in c for c in calls if c.startswith("apt-get"))


def test_browser_install_without_rights_warns_once_and_continues(tmp_path):
    proc, calls, installed = _run_install(tmp_path, uid=1000)
    assert proc.returncode == 0 and not installed and calls == []
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: chromium not installed") and "PNG" in lines[0]


def test_browser_install_failure_fails_under_ci(tmp_path):
    proc, _, _ = _run_install(tmp_path, uid=0, apt_fails=True, ci=True)
    assert proc.returncode != 0 and "apt-get" in proc.stderr


def test_browser_install_failure_warns_outside_ci(tmp_path):
    proc, calls, installed = _run_install(tmp_path, uid=0, apt_fails=True)
    assert proc.returncode == 0 and not installed and calls
    assert len(proc.stderr.strip().splitlines()) == 1


def test_browser_already_present_installs_nothing(tmp_path):
    proc, calls, _ = _run_install(tmp_path, uid=0, has_chromium=True)
    assert proc.returncode == 0 and calls == [] and proc.stdout == proc.stderr == ""


# -- PNG verbs with chromium hidden ---------------------------------------------------------------------
def _no_chromium_env(tmp_path) -> dict:
    """PATH without any chromium (a copy of PATH's folders as links, chromium left out), and
    WORKBENCH_CHROMIUM (looked up first) pointing nowhere, so /usr/bin/chromium is not found either."""
    bin_dir = tmp_path / "path-without-chromium"
    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bin_dir / name
            if "chromium" not in name and not target.exists():
                target.symlink_to(os.path.join(folder, name))
    return {**os.environ, "PATH": str(bin_dir), "WORKBENCH_CHROMIUM": str(tmp_path / "no" / "chromium"),
            "WORKBENCH_DB": str(tmp_path / "unused.duckdb")}


def _cli(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def _skipped_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "PNG skipped" in line]


def test_map_forces_without_chromium_writes_html_and_one_warning(tmp_path):
    env = _no_chromium_env(tmp_path)
    db = tmp_path / "store.duckdb"
    for args in (["db", "init", "--db", str(db)],
                 ["ingest", str(FIXTURES / "store_directory.csv"), "--db", str(db)],
                 ["ingest", str(FIXTURES / "brightmart_clean.csv"), "--db", str(db)]):
        proc = _cli(args, env, tmp_path)
        assert proc.returncode == 0, proc.stderr
    proc = _cli(["map", "forces", "--out", str(tmp_path / "maps" / "forces.html"), "--db", str(db)], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = _skipped_lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("PNG skipped:") and env["WORKBENCH_CHROMIUM"] in lines[0]
    assert (tmp_path / "maps" / "forces.html").stat().st_size > 10_000
    assert not list(tmp_path.rglob("*.png"))


def test_hotspots_plan_without_chromium_writes_html_pdf_and_one_warning(tmp_path):
    env = _no_chromium_env(tmp_path)
    out = tmp_path / "plan"
    proc = _cli(["hotspots", "plan", "--source", "police-uk", "--force", "West Yorkshire", "--period", "next-month",
                 "--out", str(out), "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(_skipped_lines(proc.stderr)) == 1          # one line for the map and the briefing together
    assert "PNG skipped" not in proc.stdout               # --json output stays parseable
    for name in ("map.html", "briefing.html", "briefing.pdf", "plan.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "briefing.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.glob("*.png"))


def test_no_png_asks_for_no_browser(tmp_path, monkeypatch, capsys):
    from workbench.commands.common import png_or_skip

    monkeypatch.setenv("WORKBENCH_CHROMIUM", str(tmp_path / "nowhere"))
    assert png_or_skip(False) is False
    assert png_or_skip(True) is False
    assert capsys.readouterr().err.count("PNG skipped") == 1


def test_png_kept_when_chromium_is_there(chromium_path, monkeypatch, capsys):
    from workbench.commands.common import png_or_skip

    monkeypatch.setenv("WORKBENCH_CHROMIUM", chromium_path)
    assert png_or_skip(True) is True
    assert "PNG skipped" not in capsys.readouterr().err
