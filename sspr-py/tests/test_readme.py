"""The README's first example, run as a new user runs it: copied into a file and started with
``python`` in an empty directory. It must run to its end as printed and print what its comments say."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs_as_printed(tmp_path: pathlib.Path) -> None:
    snippet = re.search(r"<!-- python-quickstart -->\s*```python\n(.*?)```", README.read_text(), re.S)
    assert snippet is not None, "the README's first example is marked <!-- python-quickstart -->"
    script = tmp_path / "quickstart.py"
    script.write_text(snippet.group(1))
    # Several runs: the script ends right after its last call, so a crash at interpreter exit
    # (a backend thread waking the closed event loop) shows as a failing exit status.
    for _ in range(5):
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (proc.returncode, proc.stderr)
        lines = proc.stdout.splitlines()
        # A right PIN: no attempts-left line; the outcome's repr hides the password, reveal() has it.
        assert lines == ["ResetOutcome(temporary_password=Secret('********'), must_change=True, unlocked=False)", "16"]
