"""The example plugin on its own: run from the TiffTock checkout, after `pip install -e` of it."""
import json
from datetime import datetime, timezone
from importlib.metadata import entry_points

import pytest
from marshmallow import ValidationError

from app.config import Config
from app.processes import PermanentError, ProcessRegistry, RemindContext
from tifftock_example_process import JsonLinesProcess

WHEN = datetime(2030, 1, 1, 8, 0, tzinfo=timezone.utc)


def context(attempt=1):
    return RemindContext(reminder_id=3, scheduled_for=WHEN, attempt=attempt, occurrence_id=RemindContext.occurrence_key(3, WHEN))


def test_appends_one_line_per_attempt(tmp_path):
    path = tmp_path / "reminders.jsonl"
    process = JsonLinesProcess(Config(JSONL_PATH=str(path)))
    params = process.validate({"label": "garden"})
    assert process.remind("Water the plants", params, context(1)) == "appended to reminders.jsonl"
    process.remind("Water the plants", params, context(2))
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["message"] == "Water the plants" and first["label"] == "garden"
    assert first["occurrence_id"] == second["occurrence_id"]
    assert (first["attempt"], second["attempt"]) == (1, 2)


def test_errors_are_classified(tmp_path):
    with pytest.raises(PermanentError, match="not configured"):
        JsonLinesProcess(Config(JSONL_PATH="")).remind("x", {}, context())
    with pytest.raises(PermanentError, match="IsADirectoryError"):
        JsonLinesProcess(Config(JSONL_PATH=str(tmp_path))).remind("x", {}, context())


def test_params_are_checked():
    with pytest.raises(ValidationError):
        JsonLinesProcess(Config()).validate({"label": "x" * 101})
    with pytest.raises(ValidationError):
        JsonLinesProcess(Config()).validate({"path": "/etc/passwd"})


def test_registered_through_the_entry_point(tmp_path):
    assert "jsonl" in {ep.name for ep in entry_points(group="tifftock.processes")}
    registry = ProcessRegistry(Config(JSONL_PATH=str(tmp_path / "r.jsonl"), PROCESS_MODULES=[]))
    assert isinstance(registry.get("jsonl"), JsonLinesProcess)
