"""Filter presets: real Lavalink filter objects within Lavalink's bounds."""

from __future__ import annotations

from typing import Any

import pytest

from backbeat.domain.filters import (
    PRESET_NAMES,
    UnknownFilterPresetError,
    is_preset,
    preset_filters,
    preset_names,
    preset_of,
)

REQUIRED = {"bassboost", "nightcore", "vaporwave", "karaoke", "8d", "soft", "off"}
KNOWN_FILTERS = {
    "volume",
    "equalizer",
    "karaoke",
    "timescale",
    "tremolo",
    "vibrato",
    "rotation",
    "distortion",
    "channelMix",
    "lowPass",
    "pluginFilters",
}


def _bound_violations(filters: dict[str, Any]) -> list[str]:
    """Lavalink v4's limits (LavalinkServer's filter classes) broken by ``filters``."""
    problems = [f"unknown filter {name}" for name in filters if name not in KNOWN_FILTERS]
    if "volume" in filters and not 0.0 <= filters["volume"] <= 5.0:
        problems.append("volume")
    bands = filters.get("equalizer", [])
    if len({b["band"] for b in bands}) != len(bands):
        problems.append("equalizer: a band twice")
    for band in bands:
        if set(band) != {"band", "gain"} or not 0 <= band["band"] <= 14:
            problems.append(f"equalizer band {band}")
        elif not -0.25 <= band["gain"] <= 1.0:
            problems.append(f"equalizer gain {band}")
    timescale = filters.get("timescale", {})
    problems += [f"timescale {k}" for k, v in timescale.items() if v <= 0]
    if set(timescale) - {"speed", "pitch", "rate"}:
        problems.append("timescale keys")
    karaoke = filters.get("karaoke", {})
    if set(karaoke) - {"level", "monoLevel", "filterBand", "filterWidth"}:
        problems.append("karaoke keys")
    problems += [f"karaoke {k}" for k in ("level", "monoLevel") if not 0 <= karaoke.get(k, 0) <= 1]
    if "rotation" in filters and set(filters["rotation"]) != {"rotationHz"}:
        problems.append("rotation keys")
    low_pass = filters.get("lowPass")
    if low_pass is not None and not (set(low_pass) == {"smoothing"} and low_pass["smoothing"] > 1):
        problems.append("lowPass")
    for name in ("tremolo", "vibrato"):
        spec = filters.get(name)
        if spec is not None and not (spec["frequency"] > 0 and 0 < spec["depth"] <= 1):
            problems.append(name)
    return problems


def test_the_required_presets_exist_with_off_first() -> None:
    assert set(PRESET_NAMES) >= REQUIRED
    assert preset_names() == PRESET_NAMES
    assert PRESET_NAMES[0] == "off"
    assert len(set(PRESET_NAMES)) == len(PRESET_NAMES)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_is_within_lavalink_bounds(name: str) -> None:
    filters = preset_filters(name)
    assert _bound_violations(filters) == []
    assert preset_of(filters) == name


def test_the_checker_rejects_out_of_bounds_values() -> None:
    assert _bound_violations({"equalizer": [{"band": 15, "gain": 0.1}]})
    assert _bound_violations({"equalizer": [{"band": 1, "gain": -0.5}]})
    assert _bound_violations({"timescale": {"speed": 0.0}})
    assert _bound_violations({"lowPass": {"smoothing": 1.0}})
    assert _bound_violations({"bogus": {}})


def test_presets_are_what_their_names_say() -> None:
    assert preset_filters("off") == {}
    assert all(b["gain"] >= 0 for b in preset_filters("bassboost")["equalizer"])
    assert {b["band"] for b in preset_filters("bassboost")["equalizer"]} <= set(range(6))
    nightcore = preset_filters("nightcore")["timescale"]
    assert nightcore["speed"] > 1
    assert nightcore["pitch"] > 1
    vaporwave = preset_filters("vaporwave")["timescale"]
    assert vaporwave["speed"] < 1
    assert vaporwave["pitch"] < 1
    assert preset_filters("karaoke")["karaoke"]["level"] > 0
    assert preset_filters("8d")["rotation"]["rotationHz"] > 0
    assert set(preset_filters("soft")) == {"lowPass"}


def test_names_ignore_case_and_spaces() -> None:
    assert preset_filters(" NightCore ") == preset_filters("nightcore")
    assert is_preset("8D")
    assert not is_preset("loud")


def test_each_call_returns_a_fresh_copy() -> None:
    first = preset_filters("bassboost")
    first["equalizer"][0]["gain"] = 0.9
    assert preset_filters("bassboost")["equalizer"][0]["gain"] != 0.9


def test_an_unknown_name_is_a_typed_value_error() -> None:
    with pytest.raises(UnknownFilterPresetError) as raised:
        preset_filters("loud")
    assert isinstance(raised.value, ValueError)
    assert raised.value.name == "loud"
    assert raised.value.choices == PRESET_NAMES
    assert preset_of({"rotation": {"rotationHz": 5.0}}) is None
