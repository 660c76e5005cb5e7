"""The code in the README's remind-process sections works as printed: the process, its tests, the verifier."""
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

from app.processes import ProcessRegistry
from app.processes.webhook import signature_headers
from tests.processes.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "README.md"


def python_block(starting_with):
    """The ```python block of the doc whose code starts with `starting_with`."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if block.startswith(starting_with)]
    assert len(found) == 1, f"no single python block starting with {starting_with!r} in {DOC.name}"
    return found[0]


def test_example_process_registers_through_process_modules(tmp_path, monkeypatch):
    (tmp_path / "my_processes.py").write_text(python_block('"""my_processes.py'), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = ProcessRegistry(make_config(PROCESS_MODULES=["my_processes"]), use_entry_points=False)
        try:
            assert registry.get("ntfy").validate({"topic": "pills"}) == {"topic": "pills", "priority": 3}
        finally:
            registry.close()
    finally:
        sys.modules.pop("my_processes", None)


def test_example_tests_pass_as_printed(tmp_path):
    (tmp_path / "my_processes.py").write_text(python_block('"""my_processes.py'), encoding="utf-8")
    (tmp_path / "test_my_processes.py").write_text(python_block("from datetime import"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_my_processes.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout


def test_signature_verifier_in_the_doc_accepts_tifftock_signatures():
    namespace = {}
    exec(python_block("import base64, hashlib, hmac"), namespace)  # noqa: S102 - our own doc
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = b'{"message": "hi"}'
    headers = signature_headers("rem_1_0", body, secret)
    assert namespace["verify"](secret, headers, body)
    assert not namespace["verify"](secret, headers, body + b" ")
    assert namespace["verify"]("raw secret", signature_headers("rem_1_0", body, "raw secret"), body)
