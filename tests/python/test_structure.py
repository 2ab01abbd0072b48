"""The house rules of issue 12, checked on the source tree so that they stay true: no import cycle
between modules (scripts/module-cycles.py), no command module imported by another command or by the
library, no file over 600 lines of logic, and a module map in lib.rs that names every module."""
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CRATES = [REPO / "src", REPO / "crates" / "awsso-sim" / "src"]
MAX_LOGIC_LINES = 600


def test_no_module_imports_cycle():
    for src in CRATES:
        r = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "module-cycles.py"), str(src)],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, f"{src}: {r.stdout}{r.stderr}"
        assert "cycles: none" in r.stdout, r.stdout


def test_commands_are_imported_by_nobody_but_the_dispatch():
    offenders = []
    for f in (REPO / "src").rglob("*.rs"):
        rel = f.relative_to(REPO / "src")
        text = f.read_text()
        if rel.parts[0] == "cmd":
            # A command may use its own dispatch (`super::Context`), never a sibling command.
            siblings = {p.stem for p in (REPO / "src" / "cmd").glob("*.rs")} - {"mod"}
            for m in re.finditer(r"\b(?:super|crate::cmd)::(\w+)", text):
                if m.group(1) in siblings and m.group(1) != f.stem:
                    offenders.append(f"{rel}: {m.group(0)}")
        elif re.search(r"\bcrate::cmd\b", text):
            offenders.append(f"{rel}: crate::cmd")
    assert not offenders, offenders


def logic_lines(text):
    n = 0
    for line in text.split("\n"):
        if line.startswith("#[cfg(test)]"):
            break
        s = line.strip()
        if s and not s.startswith("//"):
            n += 1
    return n


def test_no_file_passes_600_lines_of_logic():
    big = {}
    for src in CRATES:
        for f in src.rglob("*.rs"):
            n = logic_lines(f.read_text())
            if n > MAX_LOGIC_LINES:
                big[str(f.relative_to(REPO))] = n
    assert not big, f"split these by concern: {big}"


def test_the_module_map_names_every_module():
    lib = (REPO / "src" / "lib.rs").read_text()
    header = "\n".join(l for l in lib.split("\n") if l.startswith("//!"))
    mods = re.findall(r"^pub mod (\w+);", lib, re.M)
    assert len(mods) > 20, mods
    missing = [m for m in mods if f"`{m}`" not in header]
    assert not missing, f"lib.rs's module map leaves out {missing}"
