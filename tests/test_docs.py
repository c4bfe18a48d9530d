"""The README stays a user's README, its links lead somewhere, and nothing shipped names a
folder on the machine that made it (a model card, a doc, a default)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"
MAX_README_LINES = 250
# Folders that belong to one machine or one person: never in what ships.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:tmp|work|root|home|Users|mnt)/")
# Absolute paths in prose (README, docs, cards): a slash after a blank, quote, bracket or line
# start, and at least two parts ("/compose" and "6/8" are not paths).
PROSE_PATH = re.compile(r"(?:^|(?<=[\s`'\"(\[]))/[\w.-]+(?:/[\w.@=-]*)+", re.M)
# The system paths the docs may name: where Debian puts what the set-up installs, or what the
# code reads from the system. Each is the same on every Debian or Ubuntu machine.
SYSTEM_PATHS = (
    "/usr/share/sounds/sf2/",  # fluid-soundfont-gm's soundfonts
    "/usr/share/doc/fluid-soundfont-gm/",  # its copyright file
    "/usr/bin/chromium",  # Debian's chromium package
    "/proc/",  # the kernel's files (the CPU's flags, a process's CPU time): the same on every Linux
)


def shipped_text_files() -> list[Path]:
    """What ships as text: the README, the docs, the model cards, the code, the scripts."""
    files = [README, *(ROOT / "docs").rglob("*.md"), *(ROOT / "checkpoints").glob("*.json"),
             *(ROOT / "checkpoints").glob("*.md"), *(ROOT / "bot").rglob("*.py"), *(ROOT / "scripts").glob("*.sh"),
             ROOT / "app.py"]
    return [f for f in files if f.is_file()]


def test_the_readme_is_short_and_keeps_the_spaces_front_matter():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; the figures and design go in docs/"
    front = lines[: lines.index("---", 1) + 1]
    assert front[0] == "---" and "sdk: gradio" in front and "app_file: app.py" in front


def test_the_readme_links_to_files_that_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert {"docs/benchmarks.md", "docs/design.md", "docs/training.md"} <= set(local)
    assert [link for link in local if not (ROOT / link).exists()] == []


def test_the_benchmarks_doc_has_a_section_for_every_bench_with_its_command():
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "placeholder" not in text.lower() and "TODO" not in text  # every figure filled in
    benches = sorted(p.name for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    # Every bench a person runs for a figure is named in the doc (machine.py and golden.py are helpers).
    named = [b for b in benches if b not in ("machine.py", "__init__.py") and f"bench/{b}" not in text]
    assert named == [], f"benches with no figures in docs/benchmarks.md: {named}"


def test_nothing_shipped_names_a_folder_on_a_machine():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in shipped_text_files()
             for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if MACHINE_PATH.search(line)]
    assert found == []


def test_the_docs_and_cards_name_only_system_paths():
    prose = [README, *(ROOT / "docs").rglob("*.md"), *(ROOT / "checkpoints").glob("*.md"),
             *(ROOT / "checkpoints").glob("*.json")]
    named = {match for path in prose for match in PROSE_PATH.findall(path.read_text())}
    assert {path for path in named if not path.startswith(SYSTEM_PATHS)} == set()
    assert "/usr/share/sounds/sf2/" in named  # the check reads the README's paths at all


def test_the_benches_default_to_folders_in_the_repo():
    # Every string in a bench that is not a docstring: argparse defaults, module constants.
    strings = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                      and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        strings += [f"{path.name}: {node.value}" for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and MACHINE_PATH.search(node.value)]
    assert strings == []


def test_the_model_cards_name_the_in_repo_output_and_a_command_run_from_the_root():
    card = json.loads((ROOT / "checkpoints" / "abc_lstm.json").read_text())
    assert card["training"]["out"] == "checkpoints/abc_lstm"
    assert card["command"].startswith(("python -m bot.train", "torchrun "))
    assert card["command"].endswith("--out checkpoints/abc_lstm")
    harmony = json.loads((ROOT / "checkpoints" / "harmony.json").read_text())
    assert harmony["info"]["command"].startswith("python -m bot.harmony.train")


def test_a_card_written_in_the_repo_names_its_paths_from_the_root(tmp_path):
    from bot.train import in_repo

    assert in_repo(str(ROOT / "checkpoints" / "abc_lstm")) == "checkpoints/abc_lstm"
    assert in_repo("checkpoints/mine") == "checkpoints/mine"  # already relative: as given
    assert in_repo("--epochs") == "--epochs"
    assert in_repo(str(tmp_path / "run")) == str(tmp_path / "run")  # outside the repo: nothing to shorten
