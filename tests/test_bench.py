"""The benchmarks still drive the product as it is: a short run of the quick ones.

They are measurements, not tests: only that they run and print their figures is checked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"


@pytest.mark.parametrize(
    "script, args, figure",
    [
        ("print.py", ["--runs", "3"], "kiosk 'Take a ticket' (stored, then printed) -> bytes received"),
        ("queue.py", ["--seconds", "1", "--postgres", ""], "sqlite paced (Poisson)"),  # SQLite only
        ("office.py", ["--tickets", "2000", "--requests", "3", "--postgres", ""], "outbox on SQLite"),
    ],
)
def test_a_benchmark_runs_and_prints_its_figures(script, args, figure):
    if script == "queue.py" and "FAKETIME" in os.environ:
        # its own process waits with time.sleep, which Debian's libfaketime 0.9.10 turns into
        # EINVAL; the queue benchmark reads no date of its own, the normal run covers it
        pytest.skip("bench/queue.py sleeps, which libfaketime 0.9.10 breaks")
    run = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert figure in run.stdout and "failed" not in run.stdout, run.stdout
