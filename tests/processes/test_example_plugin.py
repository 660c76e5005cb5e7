"""The example plugin under examples/ is found through its entry point and delivers."""
import json
from importlib.metadata import entry_points

from app.processes import ProcessRegistry
from tests.processes.conftest import make_config, make_context

INSTALL = "pip install -e examples/tifftock-example-process (make install does it)"


def test_example_plugin_is_discovered_through_its_entry_point_and_delivers(tmp_path):
    names = {ep.name: ep.value for ep in entry_points(group="tifftock.processes")}
    assert names.get("jsonl") == "tifftock_example_process:JsonLinesProcess", f"the example plugin is not installed: {INSTALL}"
    path = tmp_path / "reminders.jsonl"
    registry = ProcessRegistry(make_config(JSONL_PATH=str(path)))
    try:
        assert "jsonl" in registry.names()
        assert "jsonl" in {entry["name"] for entry in registry.describe()}
        process = registry.get("jsonl")
        detail = process.remind("Water the plants", process.validate({"label": "garden"}), make_context())
        assert detail == "appended to reminders.jsonl"
        line = json.loads(path.read_text())
        assert line["message"] == "Water the plants"
        assert line["occurrence_id"] == make_context().occurrence_id
    finally:
        registry.close()
