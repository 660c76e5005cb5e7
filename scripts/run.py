"""`make run`: the API (gunicorn) and scheduler.py in the foreground; Ctrl-C stops both."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Config  # noqa: E402


def main():
    """Start both processes, print how to use them, and stop both on Ctrl-C or when one exits."""
    config = Config.from_env()
    problem = config.api_key_problem()
    if problem:
        sys.exit(f"TiffTock will not start: {problem}")
    bin_dir = Path(sys.executable).parent
    url = f"http://{config.HOST}:{config.PORT}"
    api = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--workers", "2", "--bind", f"{config.HOST}:{config.PORT}",
         "--access-logfile", "-", "app:create_app()"],
        cwd=ROOT,
    )
    scheduler = subprocess.Popen([sys.executable, str(ROOT / "scheduler.py")], cwd=ROOT)
    children = [api, scheduler]
    print(banner(url, config.API_KEY), flush=True)

    stopping = False

    def stop(_signum=None, _frame=None):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM)]
    sys.exit(0 if stopping and not failed else 1)


def banner(url, key):
    """What to tell the person who just ran `make run`."""
    return f"""
TiffTock is running.
  API:       {url}   (docs: {url}/docs)
  API key:   {key}   (from .env)
  Scheduler: running (Ctrl-C stops both)

Try it:
  curl -s -X POST {url}/reminders -H "X-API-Key: {key}" -H "Content-Type: application/json" \\
       -d '{{"message": "Hello from TiffTock", "method": "log", "when": "2030-01-01T09:00:00Z"}}'
"""


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
