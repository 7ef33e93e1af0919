"""`make run` stops both of its processes (the web server and `flask scheduler`) on
SIGTERM to make, and on Ctrl-C (SIGINT to the whole foreground process group, as a
terminal sends it). The test skips the install, migrate and seed steps (`-o seed`):
its database is migrated already."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess

import pytest

from tests.delivery.processes import ROOT, alive, catches, command_line, descendants, free_port, wait_for


def started_make_run(env: dict, log) -> tuple[subprocess.Popen, set[int]]:
    port = free_port()
    make = subprocess.Popen(["make", "-s", "-o", "seed", "run", f"PORT={port}"], cwd=ROOT,
                            env={**os.environ, **env, "COENFORCE_ENV": "development", "PYTHONUNBUFFERED": "1"},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def serving():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            assert make.poll() is None, f"make run exited with {make.returncode}"
            return False
        # The two Python processes (not the recipe's shell, whose command line names them too).
        found = {pid for pid in descendants(make.pid)
                 if "flask" in command_line(pid) and command_line(pid).split()[0].rsplit("/", 1)[-1].startswith("python")}
        # The scheduler is ready for a graceful stop once it handles TERM.
        scheduler = any(" scheduler" in command_line(pid) and catches(pid, signal.SIGTERM) for pid in found)
        return found if scheduler else False
    return make, wait_for(serving, 60, "make run serving with its scheduler")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("how", ["sigterm to make", "ctrl-c"])
def test_make_run_stops_both_processes(env, tmp_path, how):
    with open(tmp_path / "make.log", "wb") as log:
        make, processes = started_make_run(env, log)
        try:
            assert len(processes) >= 2
            if how == "sigterm to make":
                os.kill(make.pid, signal.SIGTERM)  # make alone, as a service manager or `kill` would
            else:
                os.killpg(make.pid, signal.SIGINT)  # the terminal's foreground group
            try:
                make.wait(timeout=30)
            except subprocess.TimeoutExpired:
                left = {pid: command_line(pid)[:80] for pid in descendants(make.pid)}
                log.flush()
                raise AssertionError(f"make run still running: {left}\n"
                                     f"{(tmp_path / 'make.log').read_text()[-3000:]}") from None
            wait_for(lambda: not any(alive(pid) for pid in processes), 20, "both processes gone")
        finally:
            for pid in processes:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
    assert "scheduler stopped" in (tmp_path / "make.log").read_text()
