"""The registry: choosing components by name, loading factories by module path, building."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_demo_component import DemoConsumer
from runtime_support import MakeSettings

from backbeat.errors import ConfigurationError
from backbeat.runtime import (
    COMPONENT_MODULES,
    ComponentUnavailableError,
    UnknownComponentError,
    build,
    component_modules,
    load_factory,
    select,
)

DEMO = "runtime_demo_component"


def test_every_registered_target_names_a_module_of_backbeat() -> None:
    assert COMPONENT_MODULES["audio"] == "backbeat.audio.component"
    assert all(target.startswith("backbeat.") for target in COMPONENT_MODULES.values())


def test_no_names_selects_every_component_in_registry_order() -> None:
    modules = component_modules({"demo": DEMO, "demo-sender": f"{DEMO}:SENDER_FACTORY"})
    assert select([], modules) == [*COMPONENT_MODULES, "demo", "demo-sender"]
    assert select(["demo-sender", "demo", "demo"], modules) == ["demo", "demo-sender"]


def test_unknown_names_are_all_listed_with_the_known_ones() -> None:
    with pytest.raises(UnknownComponentError) as caught:
        select(["nope", "audio", "nada"], component_modules())
    assert caught.value.names == ("nope", "nada")
    assert str(caught.value) == "unknown components 'nope', 'nada' (known: audio, gateway, panel)"


def test_an_extra_entry_replaces_a_registered_one() -> None:
    assert component_modules({"audio": DEMO})["audio"] == DEMO


def test_factories_load_by_module_and_attribute(make_settings: MakeSettings) -> None:
    settings = make_settings()
    component = load_factory("demo", DEMO)(settings)
    assert isinstance(component, DemoConsumer)
    assert load_factory("demo-sender", f"{DEMO}:SENDER_FACTORY")(settings).name == "demo-sender"


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        (
            "backbeat.no_such_module",
            "module backbeat.no_such_module is not part of this installation",
        ),
        (f"{DEMO}:NO_SUCH_FACTORY", f"{DEMO} has no callable NO_SUCH_FACTORY"),
        (f"{DEMO}:GUILD_ID", f"{DEMO} has no callable GUILD_ID"),
    ],
)
def test_unloadable_targets_say_why(target: str, detail: str) -> None:
    with pytest.raises(ComponentUnavailableError) as caught:
        load_factory("ghost", target)
    assert str(caught.value) == f"component 'ghost' is not available: {detail}"


def test_a_module_whose_own_import_fails_is_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runtime_broken_component.py").write_text("import runtime_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ComponentUnavailableError) as caught:
        load_factory("broken", "runtime_broken_component")
    assert "cannot be imported" in str(caught.value)
    assert "runtime_missing_dependency" in str(caught.value)


def test_build_passes_configuration_errors_through(make_settings: MakeSettings) -> None:
    modules = component_modules({"demo": f"{DEMO}:NEEDS_BOT_USER_ID_FACTORY"})
    with pytest.raises(ConfigurationError) as caught:
        build(make_settings(), ["demo"], modules)
    assert caught.value.variable == "BACKBEAT_BOT_USER_ID"
    [component] = build(make_settings(BOT_USER_ID="123456789012345678"), ["demo"], modules)
    assert component.name == "demo"


def test_build_reports_a_failing_factory_and_a_wrong_name(make_settings: MakeSettings) -> None:
    settings = make_settings()
    with pytest.raises(ComponentUnavailableError, match="its factory failed: KeyError: 'oops'"):
        build(settings, ["demo"], {"demo": f"{DEMO}:FACTORY_BUG"})
    with pytest.raises(ComponentUnavailableError, match="named 'not-the-registered-name'"):
        build(settings, ["demo"], {"demo": f"{DEMO}:WRONG_NAME_FACTORY"})
