"""``/seek`` text and the reply components' custom ids."""

from __future__ import annotations

import pytest

from backbeat.domain.messages import TrackSummary
from backbeat.gateway.menus import PickId, QueuePageId, parse_menu, pick_value
from backbeat.gateway.seek_input import parse_seek


@pytest.mark.parametrize(
    ("text", "position_ms", "offset_ms"),
    [
        ("1:23", 83_000, None),
        ("83", 83_000, None),
        ("0", 0, None),
        ("1:02:03", 3_723_000, None),
        ("+10", None, 10_000),
        ("-10", None, -10_000),
        (" + 1:00 ", None, 60_000),
    ],
)
def test_seek_forms(text: str, position_ms: int | None, offset_ms: int | None) -> None:
    payload = parse_seek(text)
    assert payload is not None
    assert (payload.position_ms, payload.offset_ms) == (position_ms, offset_ms)


@pytest.mark.parametrize("text", ["", "soon", "1:75", "1:60:00", "99999:00", "1.5", "--3", "1:"])
def test_seek_refuses_what_is_not_a_time(text: str) -> None:
    assert parse_seek(text) is None


def test_menu_ids_round_trip_and_others_are_ignored() -> None:
    assert parse_menu(str(QueuePageId(42, 3))) == QueuePageId(42, 3)
    assert parse_menu(str(PickId(42))) == PickId(42)
    for other in ("bb:pause:42", "bbq:42", "bbq:42:0", "bbq:x:1", "bbs:42:1", "bbs:", "nope"):
        assert parse_menu(other) is None


def _track(uri: str | None) -> TrackSummary:
    return TrackSummary(
        title="Night Ferry",
        author="Glass Harbor",
        uri=uri,
        identifier="abc",
        source_name="youtube",
        length_ms=1,
    )


def test_a_pick_enqueues_the_link_or_else_a_search() -> None:
    assert pick_value(_track("https://example.test/x")) == "https://example.test/x"
    assert pick_value(_track("https://example.test/" + "x" * 200)) == "Night Ferry Glass Harbor"
    assert pick_value(_track(None)) == "Night Ferry Glass Harbor"
