"""python -m helpers in English (issue 23): with ATELIER_LANG=en the help of the command and of
every subcommand and verb, argparse's own words (usage, errors) and what the commands print are
English; French stays French (tests/test_cli.py)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import argparse_fr, cli
from helpers.dataset import example, write_jsonl
from helpers.verbs import VERBS

ROOT = Path(__file__).resolve().parents[1]
FRENCH = re.compile(
    r"[éèêàùçôîâœ«»ÉÈÀÇ]|\b(?:le|la|les|des|du|une|est|pas|ton|ta|tes|ce|cette|il|avec|"
    r"utilisation|fichier|modèle|exemples?|affiche|erreur|dossier|par défaut)\b",
    re.IGNORECASE,
)
# the kit's own commands (export and class are helpers.local.export's and the class server's)
COMMANDS = [[], ["api"], ["check"], ["eval"], ["doctor"], ["reset"]] + [["api", v] for v in VERBS]


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "helpers")
def test_every_help_is_english(capsys, command):
    code, out, err = run(capsys, *command, "-h")
    assert code == 0 and not err
    assert out.startswith("usage: python -m helpers"), out
    assert "-h, --help" in out and "show this help message and exit" in out
    assert not FRENCH.search(out), out


def test_the_main_help_describes_each_command_in_english(capsys):
    code, out, _ = run(capsys, "-h")
    assert "Atelier fine-tuning: the guide's commands." in out
    assert "check a .jsonl dataset" in out and "positional arguments:" in out
    code, out, _ = run(capsys, "api", "chat.completions.create", "-h")
    assert "-g ROLE CONTENT" in out and "a message, for example -g user Hello" in out


def test_argparse_errors_are_argparse_s_english(capsys):
    parser = argparse_fr.FrenchArgumentParser(prog="python -m helpers.x")
    parser.add_argument("--n", type=int, required=True)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--n", "deux"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: python -m helpers.x")
    assert "python -m helpers.x: error: argument --n: invalid int value: 'deux'" in err
    assert argparse_fr.translate("unrecognized arguments: --x") == "unrecognized arguments: --x"


def test_argparse_stays_french_in_french(monkeypatch, capsys):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    parser = argparse_fr.FrenchArgumentParser(prog="p")
    parser.add_argument("--n", type=int)
    with pytest.raises(SystemExit):
        parser.parse_args(["--n", "deux"])
    err = capsys.readouterr().err
    assert (
        err.startswith("utilisation : p")
        and "p : erreur : option --n: nombre entier attendu" in err
    )
    assert isinstance(parser, argparse.ArgumentParser)


def test_check_prints_english(capsys, tmp_path):
    path = write_jsonl(
        [example(f"Question {i}", "COUCOU") for i in range(12)], tmp_path / "d.jsonl"
    )
    code, out, _ = run(capsys, "check", str(path))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "✅ 12 examples ready to upload."
    assert lines[1] == "Format: chat examples (supervised training)."
    assert lines[2].startswith("Tokens per example: min ") and "; total " in lines[2]
    assert lines[3].startswith("Estimated cost: ")


def test_reset_and_usage_errors_in_english(capsys):
    code, out, _ = run(capsys, "reset")
    assert code == 0 and out == "Nothing to forget for every step.\n"
    code, out, _ = run(capsys, "reset", "--step", "5")
    assert out == "Nothing to forget for step 5 and the following ones.\n"
    code, _, err = run(capsys, "api", "fine_tuning.jobs.create", "--n-epochs", "many")
    assert code == 2 and "--n-epochs expects a number or \"auto\", got 'many'." in err


def test_doctor_in_english(capsys, monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("helpers.settings.key_source", lambda: None)
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and out.startswith("🩺 Atelier fine-tuning — check-up\n")
    assert "OPENAI_API_KEY key: missing ❌ (needed in openai mode)" in out
    assert "Workspace: " in out and "Offline token counting: ✅" in out


def test_python_dash_m_help_in_english(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ATELIER_LANG": "en", "ATELIER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "-h"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m helpers")
    assert not FRENCH.search(proc.stdout), proc.stdout


def test_a_python_without_the_kit_s_packages_is_told_so_not_the_file(capsys, monkeypatch):
    """Rehearsal F1: `python -m helpers check` run by a Python lacking the kit's packages said
    "check interrupted (ModuleNotFoundError) → Report this file to your instructor"."""
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "openai", None)
    path = ROOT / "data" / "en" / "coucou.jsonl"
    for argv in (["check", str(path)], ["api", "models.list"]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and not out
        assert "The kit's packages are not installed in this Python" in err, err
        assert "openai, tiktoken" in err and "source .venv/bin/activate" in err
        assert "-m pip install -r requirements.txt" in err
        assert "this file" not in err and "cell" not in err and "Incorrect command" not in err
        assert err.startswith("❌ The kit's packages are missing from this Python\n")
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and "source .venv/bin/activate" in out and "openai, tiktoken" in out
    assert "unreachable" not in out


def test_a_missing_package_met_while_checking_is_not_the_file_s_fault(capsys, monkeypatch):
    def no_tokens(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'tiktoken'", name="tiktoken")

    monkeypatch.setattr("helpers.dataset.scan._Scan.run", no_tokens)
    code, out, err = run(capsys, "check", str(ROOT / "data" / "en" / "coucou.jsonl"))
    assert code == 1 and "missing tiktoken" in err and "this file" not in out + err


@pytest.mark.parametrize("readme", ["README.en.md", "README.md"])
def test_the_readmes_say_which_python_runs_the_commands(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text and ".venv/bin/python -m helpers" in text


def test_check_s_figures_read_naturally(capsys, tmp_path):
    """Rehearsal F9: "1 examples × 25 epochs" (no plural rule) and "median 44.0" next to
    "median 19" (the median of an even count printed as a float)."""
    one = write_jsonl([example("Hello", "COUCOU")], tmp_path / "one.jsonl")
    code, out, _ = run(capsys, "check", str(one))
    assert "1 example × " in out and "1 examples" not in out, out
    same = example("Hello, who are you?", "COUCOU")
    two = write_jsonl([same, example("Hello, who are you?", "COUCOU")], tmp_path / "two.jsonl")
    code, out, _ = run(capsys, "check", str(two))
    median = re.search(r"median ([\d.]+),", out).group(1)
    assert "." not in median, out
    assert "2 examples × " in out


def test_the_french_check_keeps_its_plural_and_decimal_comma(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    one = write_jsonl([example("Bonjour", "COUCOU")], tmp_path / "one.jsonl")
    code, out, _ = run(capsys, "check", str(one))
    assert "1 exemple × " in out and " époques → " in out, out
    two = write_jsonl(
        [example("Bonjour", "COUCOU"), example("Bonjour à toi", "COUCOU")], tmp_path / "t.jsonl"
    )
    code, out, _ = run(capsys, "check", str(two))
    assert "2 exemples × " in out
    median = re.search(r"médiane ([\d,.]+),", out).group(1)
    assert "." not in median, out
