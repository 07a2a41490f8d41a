"""The process runtime: components, the context they share, the registry and the runner.

``backbeat run [COMPONENT…]`` builds every named component from the settings (registry in
:mod:`backbeat.runtime.registry`), starts them in one process around one
:class:`ProcessContext` (one status server, one bus, one database engine), and stops them in
reverse order on SIGTERM or SIGINT. See ``docs/operations.md``.
"""

from backbeat.runtime.component import Component, ComponentFactory
from backbeat.runtime.errors import (
    ComponentError,
    ComponentUnavailableError,
    SchemaNotCurrentError,
    UnknownComponentError,
)
from backbeat.runtime.process import BUS_CHECK, DATABASE_CHECK, ProcessContext
from backbeat.runtime.registry import (
    COMPONENT_MODULES,
    FACTORY_ATTRIBUTE,
    build,
    component_modules,
    load_factory,
    select,
)

__all__ = [
    "BUS_CHECK",
    "COMPONENT_MODULES",
    "DATABASE_CHECK",
    "FACTORY_ATTRIBUTE",
    "Component",
    "ComponentError",
    "ComponentFactory",
    "ComponentUnavailableError",
    "ProcessContext",
    "SchemaNotCurrentError",
    "UnknownComponentError",
    "build",
    "component_modules",
    "load_factory",
    "select",
]
