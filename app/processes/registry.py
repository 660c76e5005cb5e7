"""The registry of remind processes: built-ins, PROCESS_MODULES and entry points."""
from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.processes.base import RemindProcess

ENTRY_POINT_GROUP = "tifftock.processes"
ALIASES = {"api": "webhook"}
# "module:Class" so a missing optional dependency names itself clearly.
BUILTINS = [
    "app.processes.log:LogProcess",
    "app.processes.webhook:WebhookProcess",
    "app.processes.email:EmailProcess",
    "app.processes.sms:SmsProcess",
    "app.processes.apprise_process:AppriseProcess",
]


class ProcessRegistryError(RuntimeError):
    """A process could not be registered (name clash, not a RemindProcess, import failure)."""


class ProcessRegistry:
    """Holds one instance of each registered remind process."""

    def __init__(self, config, *, builtins=True, modules=None, use_entry_points=True):
        self.config = config
        self._processes: dict[str, RemindProcess] = {}
        if builtins:
            for target in BUILTINS:
                self.register(_load_target(target), origin=target)
        for module_name in config.PROCESS_MODULES if modules is None else modules:
            for cls in _classes_in_module(module_name):
                self.register(cls, origin=module_name)
        if use_entry_points:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    cls = ep.load()
                except Exception as exc:  # any import error of a third-party plugin
                    raise ProcessRegistryError(f"entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
                self.register(cls, origin=f"entry point {ep.name}")

    def register(self, cls, origin="code"):
        """Add a RemindProcess subclass; a clash or a non-process is an error."""
        if not (inspect.isclass(cls) and issubclass(cls, RemindProcess)):
            raise ProcessRegistryError(f"{origin}: {cls!r} is not a subclass of RemindProcess")
        if inspect.isabstract(cls):
            raise ProcessRegistryError(f"{origin}: {cls.__name__} does not implement remind()")
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise ProcessRegistryError(f"{origin}: {cls.__name__}.name must be an identifier, got {name!r}")
        if name in self._processes or name in ALIASES:
            raise ProcessRegistryError(f"{origin}: a remind process named {name!r} is already registered")
        self._processes[name] = cls(self.config)
        return self._processes[name]

    def resolve_name(self, name):
        """The canonical name for `name` (aliases resolved); LookupError when unknown."""
        name = ALIASES.get(name, name)
        if name not in self._processes:
            raise LookupError(f"unknown remind process {name!r}; registered: {', '.join(self.names())}")
        return name

    def get(self, name) -> RemindProcess:
        """The process instance registered as `name` (or an alias); LookupError when unknown."""
        return self._processes[self.resolve_name(name)]

    def names(self):
        """Registered names, sorted."""
        return sorted(self._processes)

    def describe(self):
        """Each process with the JSON schema of its params, for GET /processes."""
        return [
            {
                "name": name,
                "description": process.description,
                "aliases": sorted(alias for alias, target in ALIASES.items() if target == name),
                "secret_params": list(process.secret_params),
                "params_schema": params_json_schema(process.Params),
            }
            for name, process in sorted(self._processes.items())
        ]

    def close(self):
        """Close every process."""
        for process in self._processes.values():
            process.close()


def params_json_schema(schema_cls):
    """The JSON schema of a marshmallow schema, through apispec's converter."""
    spec = APISpec("params", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    converter = spec.plugins[0].converter
    return converter.schema2jsonschema(schema_cls())


def _load_target(target):
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _classes_in_module(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProcessRegistryError(f"PROCESS_MODULES: cannot import {module_name!r}: {exc}") from exc
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, RemindProcess) and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]
    if not found:
        raise ProcessRegistryError(f"PROCESS_MODULES: {module_name!r} defines no RemindProcess subclass")
    return found
