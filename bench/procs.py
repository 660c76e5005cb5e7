"""Processes the benchmark starts (sink, gunicorn, scheduler.py, references) and their cleanup.

Every child runs in its own session (process group) and is registered in `Children`; `stop_all()`
sends SIGTERM to each group, waits, then SIGKILLs what is left. `bench.__main__` calls it in a
`finally`, and on SIGINT/SIGTERM.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Children:
    """The live child processes of this run."""

    procs = []

    @classmethod
    def add(cls, proc):
        cls.procs.append(proc)
        return proc

    @classmethod
    def stop(cls, proc, grace=10.0):
        """SIGTERM the process group, wait up to `grace` seconds, then SIGKILL it."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Kill leftovers of the group (gunicorn workers, a scheduler's children) even if the leader is gone.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if proc in cls.procs:
            cls.procs.remove(proc)

    @classmethod
    def stop_all(cls):
        for proc in list(reversed(cls.procs)):
            cls.stop(proc, grace=5.0)


def spawn(args, env=None, log=None, stdin=None, stdout=None, cwd=ROOT):
    """Start a child in its own process group, stderr (and stdout unless piped) to `log`."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            # Unbuffered pipes: read_line() selects on the descriptor, so no line may wait in a buffer.
            args, cwd=cwd, env=env, bufsize=0, stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else out, stderr=out, start_new_session=True,
        )
    finally:
        if log:
            out.close()
    return Children.add(proc)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=30.0, proc=None):
    """Wait until 127.0.0.1:port accepts a connection; RuntimeError when `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g}s")


def group_pids(pgid):
    """Pids of every live process in a process group."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def cpu_seconds(pid):
    """utime+stime of one process, seconds (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" the fields start at 3 (state): utime is field 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def group_cpu_seconds(pgid):
    total = 0.0
    for pid in group_pids(pgid):
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def rss_mb(pid, field="VmRSS"):
    """VmRSS (or VmHWM) of a process in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def group_rss_mb(pgid, field="VmRSS"):
    total = 0.0
    for pid in group_pids(pgid):
        try:
            total += rss_mb(pid, field)
        except OSError:
            pass
    return total


class Sink:
    """The recording HTTP sink in its own process (bench.sink)."""

    def __init__(self, log=None):
        self.proc = spawn([PYTHON, "-m", "bench.sink", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          log=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening "):
            raise RuntimeError(f"the sink did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def _ask(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        return self.proc.stdout.readline().decode().strip()

    def reset(self):
        self._ask("reset")

    def stats(self):
        return json.loads(self._ask("stats"))

    def records(self, path):
        """Every request since the last reset: [{t, id, rid}], also kept in `path` (JSON lines)."""
        reply = self._ask(f"dump {path}")
        if not reply.startswith("ok"):
            raise RuntimeError(f"sink dump failed: {reply}")
        with open(path) as f:
            return [json.loads(line) for line in f]

    def close(self):
        try:
            self._ask("quit")
        except (OSError, ValueError):
            pass
        Children.stop(self.proc, grace=3)
