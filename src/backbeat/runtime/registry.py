"""Which components ``backbeat run`` knows, and how their code is found.

:data:`COMPONENT_MODULES` maps a component name to a *target*: ``"package.module"`` (whose
``COMPONENT_FACTORY`` builds the component) or ``"package.module:ATTRIBUTE"`` (another
factory in that module). Modules are imported by name when a process starts, never at import
time, so the shared core does not depend on any service. More components (plugins, tests)
join through the ``extra`` mapping of :func:`component_modules` (``backbeat run
--component-module NAME=TARGET`` on the command line); an extra entry with a registered name
replaces it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Final

from backbeat.config import Settings
from backbeat.errors import ConfigurationError
from backbeat.runtime.component import Component, ComponentFactory
from backbeat.runtime.errors import ComponentUnavailableError, UnknownComponentError, describe

#: Registered components in start order (stopped in reverse).
COMPONENT_MODULES: Final[Mapping[str, str]] = {
    "audio": "backbeat.audio.component",
    "gateway": "backbeat.gateway.component",
    "panel": "backbeat.panel.component",
}

#: The module attribute a target without ``:ATTRIBUTE`` names.
FACTORY_ATTRIBUTE: Final = "COMPONENT_FACTORY"


def component_modules(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The registry with ``extra`` entries added (or replacing registered ones)."""
    modules = dict(COMPONENT_MODULES)
    modules.update(extra or {})
    return modules


def select(names: Iterable[str], modules: Mapping[str, str]) -> list[str]:
    """The components to run, in registry order: every one when ``names`` is empty.

    Raises :class:`UnknownComponentError` naming every unknown name and the known ones.
    """
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in modules]
    if unknown:
        raise UnknownComponentError(unknown, modules)
    if not wanted:
        return list(modules)
    return [name for name in modules if name in wanted]


def load_factory(name: str, target: str) -> ComponentFactory:
    """Import ``target`` and return its factory; :class:`ComponentUnavailableError` if it can't."""
    module_name, _, attribute = target.partition(":")
    attribute = attribute or FACTORY_ATTRIBUTE
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and _is_prefix(error.name, module_name):
            raise ComponentUnavailableError(
                name, f"module {module_name} is not part of this installation"
            ) from error
        raise ComponentUnavailableError(
            name, f"module {module_name} cannot be imported: {error}"
        ) from error
    except Exception as error:
        raise ComponentUnavailableError(
            name, f"module {module_name} cannot be imported: {type(error).__name__}: {error}"
        ) from error
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ComponentUnavailableError(name, f"{module_name} has no callable {attribute}")
    checked: ComponentFactory = factory
    return checked


def build(settings: Settings, names: Iterable[str], modules: Mapping[str, str]) -> list[Component]:
    """Load each named component's factory and call it with ``settings``, in the given order.

    A factory's :class:`~backbeat.errors.ConfigurationError` propagates unchanged; any other
    failure becomes :class:`ComponentUnavailableError`.
    """
    components: list[Component] = []
    for name in names:
        factory = load_factory(name, modules[name])
        try:
            component = factory(settings)
        except ConfigurationError:
            raise
        except Exception as error:
            raise ComponentUnavailableError(
                name, f"its factory failed: {describe(error)}"
            ) from error
        if component.name != name:
            raise ComponentUnavailableError(
                name, f"its factory built a component named {component.name!r}"
            )
        components.append(component)
    return components


def _is_prefix(missing: str, module_name: str) -> bool:
    """True when ``missing`` is ``module_name`` or one of its parent packages."""
    return module_name == missing or module_name.startswith(missing + ".")
