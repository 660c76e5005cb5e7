"""Settings: .sampleenv documents exactly what Config reads, and the API key checks."""
import os
import re
from pathlib import Path

import pytest

from app.config import Config

SAMPLE = Path(__file__).resolve().parent.parent / ".sampleenv"


class RecordingEnviron(dict):
    """An environment that remembers which names were asked for."""

    def __init__(self):
        super().__init__()
        self.asked = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)


def sample_variables():
    """Each variable of .sampleenv with the comment line above it."""
    lines = SAMPLE.read_text().splitlines()
    found = {}
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=", line)
        if match:
            found[match.group(1)] = lines[index - 1] if index else ""
    return found


def test_sampleenv_lists_every_setting_config_reads_each_with_a_comment(monkeypatch):
    environ = RecordingEnviron()
    monkeypatch.setattr(os, "environ", environ)
    Config()
    documented = sample_variables()
    assert set(documented) == environ.asked
    uncommented = [name for name, above in documented.items() if not above.startswith("#")]
    assert uncommented == []


@pytest.mark.parametrize(
    "key, problem",
    [
        ("", "not set"),
        ("change-me", "placeholder"),
        ("short-key", "too short"),
        ("a-long-enough-random-looking-key-123", None),
    ],
)
def test_api_key_checks(key, problem):
    found = Config(API_KEY=key).api_key_problem()
    assert (found is None) if problem is None else (problem in found)


def test_sampleenv_key_is_refused_until_make_run_replaces_it():
    key = re.search(r"^API_KEY=(.*)$", SAMPLE.read_text(), re.M).group(1)
    assert Config(API_KEY=key).api_key_problem()
