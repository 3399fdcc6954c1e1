"""The one `asl` command: its help, its subcommands' own help, and the errors and exit codes all tools share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import asl


def test_help_lists_every_command(capsys):
    assert asl.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"asl {name}" in out for name in asl.COMMANDS)


def test_no_command_and_an_unknown_one_are_usage_errors(capsys):
    assert asl.main([]) == 2
    assert asl.main(["serve-everything"]) == 2
    assert "unknown command 'serve-everything'" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(asl.COMMANDS))
def test_each_command_answers_help_under_its_asl_name(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        asl.main([name, "--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith(f"usage: asl {name}")


def test_the_installed_console_script_runs():
    script = Path(sys.executable).parent / "asl"
    if not script.is_file():
        pytest.skip("the asl command is not installed here (bash setup.sh, or python -m pip install -e .)")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "asl calibrate" in proc.stdout
