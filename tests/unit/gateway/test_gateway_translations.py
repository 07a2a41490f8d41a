"""The translation catalogues: German is complete, and every key audio sends has a text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import backbeat.audio
from backbeat.domain.i18n import CATALOGUES, Translator, fields_of, language_of

AUDIO = Path(backbeat.audio.__file__).parent
#: How audio names a reply's key or code in its source.
_KEYS = re.compile(
    r"""(?:notice\(\s*command,\s*|reply_key=)"([a-z0-9_.-]+)"|"""
    r"""(?:"([a-z0-9_.-]+)"\s+if\s+paused\s+else\s+"([a-z0-9_.-]+)")"""
)
_CODES = re.compile(
    r"""(?:CommandRefusedError\(|error_reply\(\s*command,|_error_notice\(\s*state,\s*session,)"""
    r"""\s*"([a-z0-9_.-]+)\""""
)


def _audio_source() -> str:
    return "\n".join(path.read_text() for path in AUDIO.rglob("*.py"))


def test_every_catalogue_has_every_english_key_with_the_same_fields() -> None:
    english = CATALOGUES["en"]
    for language, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(english), language
        for key, template in catalogue.items():
            assert fields_of(template) == fields_of(english[key]), (language, key)


def test_every_notice_key_and_error_code_audio_sends_has_a_text() -> None:
    source = _audio_source()
    keys = {k for match in _KEYS.findall(source) for k in match if k}
    codes = set(_CODES.findall(source))
    assert {"play.started", "voteskip.skipped", "pause.paused", "seek.done"} <= keys
    assert {"nothing_playing", "no_results", "unsupported", "internal", "track_stuck"} <= codes
    translator = Translator()
    assert sorted(k for k in keys if not translator.has(k)) == []
    assert sorted(c for c in codes if not translator.has(f"error.{c}")) == []


@pytest.mark.parametrize(
    ("locale", "language"),
    [("de", "de"), ("de-AT", "de"), ("en-US", "en"), ("pt-BR", "en"), (None, "en"), ("", "en")],
)
def test_language_of_a_discord_locale(locale: str | None, language: str) -> None:
    assert language_of(locale) == language


def test_parameters_are_prepared_in_the_locale() -> None:
    tr = Translator()
    assert tr("de", "seek.done", position_ms=83_000) == "⏩ Gesprungen zu 1:23"
    assert tr("de", "autoplay.set", enabled=True, mode="artist") == "♾️ Autoplay: an (Künstler)"
    assert tr("en", "stay.set", enabled=False) == "🌙 24/7: off"
    assert tr("fr", "loop.set", mode="queue") == "🔁 Loop: queue"


def test_unknown_keys_and_missing_fields_are_not_invented() -> None:
    tr = Translator()
    assert tr.text("de", "no.such.key") is None
    assert tr.text("de", "play.queued", {"title": "x"}) is None  # author, position missing
    assert tr("de", "no.such.key") == "no.such.key"
