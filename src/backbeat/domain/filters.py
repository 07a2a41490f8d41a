"""Audio filter presets as Lavalink v4 filter objects (pure; the ``/filters`` choices).

Each preset is a complete ``filters`` object for ``PATCH /v4/sessions/{sid}/players/{guild}``
(Lavalink replaces *all* filters with it, so ``off`` is ``{}``). Values stay within Lavalink's
bounds: equalizer bands 0–14 with gains −0.25..1, timescale factors > 0, rotation in Hz,
lowPass smoothing > 1, karaoke levels 0..1.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final


class UnknownFilterPresetError(ValueError):
    """No preset has this name; ``choices`` lists the ones that exist."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown filter preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
        self.name = name
        self.choices = PRESET_NAMES


def _bands(*gains: float) -> list[dict[str, float | int]]:
    return [{"band": band, "gain": gain} for band, gain in enumerate(gains)]


_PRESETS: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        "off": {},
        # Low bands (25–160 Hz) lifted, the mids left alone.
        "bassboost": {"equalizer": _bands(0.3, 0.25, 0.2, 0.1, 0.05, 0.0)},
        # Faster and higher, like a sped-up record.
        "nightcore": {"timescale": {"speed": 1.25, "pitch": 1.25, "rate": 1.0}},
        # Slower and lower, with a little warmth at the bottom.
        "vaporwave": {
            "timescale": {"speed": 0.85, "pitch": 0.8, "rate": 1.0},
            "equalizer": _bands(0.15, 0.1),
        },
        # Removes centre-panned vocals around 220 Hz.
        "karaoke": {
            "karaoke": {"level": 1.0, "monoLevel": 1.0, "filterBand": 220.0, "filterWidth": 100.0}
        },
        # The sound circles the listener's head.
        "8d": {"rotation": {"rotationHz": 0.2}},
        # High frequencies rolled off.
        "soft": {"lowPass": {"smoothing": 20.0}},
    }
)

#: Every preset name, ``off`` first (the gateway's ``/filters`` choices, in this order).
PRESET_NAMES: Final[tuple[str, ...]] = tuple(_PRESETS)


def preset_names() -> tuple[str, ...]:
    """Every preset name, ``off`` first."""
    return PRESET_NAMES


def is_preset(name: str) -> bool:
    """Whether ``name`` (any case, surrounding spaces ignored) names a preset."""
    return name.strip().lower() in _PRESETS


def preset_filters(name: str) -> dict[str, Any]:
    """A fresh copy of the preset's Lavalink ``filters`` object (any case).

    Raises :class:`UnknownFilterPresetError` (a ``ValueError``) for an unknown name.
    """
    key = name.strip().lower()
    try:
        return copy.deepcopy(_PRESETS[key])
    except KeyError:
        raise UnknownFilterPresetError(name) from None


def preset_of(filters: Mapping[str, Any]) -> str | None:
    """The name of the preset exactly equal to ``filters``, None for anything else."""
    for name, preset in _PRESETS.items():
        if preset == filters:
            return name
    return None
