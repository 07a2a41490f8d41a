"""The "not this" buttons: only on autoplay picks, labelled in the guild's language, standing
for ``autoplay-reject`` with their scope and counting as skip."""

from __future__ import annotations

import discord
import pytest

from backbeat.domain.i18n import Translator
from backbeat.domain.messages import DiscordContext, NowPlayingState, TrackSummary
from backbeat.domain.messages.commands import AutoplayReject
from backbeat.domain.permissions import CommandKind
from backbeat.gateway.buttons import command_for, kind_of, rejectable
from backbeat.gateway.ui.buttons import Action, controls

GUILD = 81_000_000_000_000_002
CONTEXT = DiscordContext(user_id=5)
TRACK = TrackSummary(
    title="Song", author="Artist", identifier="abc", source_name="youtube", length_ms=200_000
)


def rows(view: discord.ui.View) -> dict[int, list[discord.ui.Button[discord.ui.View]]]:
    found: dict[int, list[discord.ui.Button[discord.ui.View]]] = {}
    for item in view.children:
        assert isinstance(item, discord.ui.Button)
        assert item.row is not None
        found.setdefault(item.row, []).append(item)
    return found


def test_only_an_autoplay_pick_gets_the_not_this_row() -> None:
    pick = NowPlayingState(track=TRACK, is_autoplay_track=True)
    view = controls(GUILD, pick, tr=Translator(), locale="de")
    third = rows(view)[2]
    assert [b.custom_id for b in third] == [f"bb:nottrack:{GUILD}", f"bb:notartist:{GUILD}"]
    assert [b.label for b in third] == ["Nicht dieser Titel", "Nicht dieser Künstler"]
    assert [b.label for b in rows(controls(GUILD, pick))[2]] == [
        "Not this track",
        "Not this artist",
    ]
    assert all(b.disabled for b in rows(controls(GUILD, pick, disabled=True))[2])
    assert len(view.children) == 12  # within Discord's 5 rows of 5
    for state in (NowPlayingState(track=TRACK), NowPlayingState(track=None), None):
        assert 2 not in rows(controls(GUILD, state))


@pytest.mark.parametrize(
    ("action", "scope"), [(Action.NOT_THIS_TRACK, "track"), (Action.NOT_THIS_ARTIST, "artist")]
)
def test_not_this_stands_for_autoplay_reject_with_its_scope(action: Action, scope: str) -> None:
    pick = NowPlayingState(track=TRACK, is_autoplay_track=True)
    command = command_for(action, GUILD, CONTEXT, pick)
    assert isinstance(command, AutoplayReject)
    assert (command.payload.identifier, command.payload.scope) == ("abc", scope)
    assert kind_of(action) is CommandKind.SKIP  # the permission rules of /skip


def test_not_this_needs_an_autoplay_pick() -> None:
    assert rejectable(NowPlayingState(track=TRACK, is_autoplay_track=True))
    users = NowPlayingState(track=TRACK)
    assert not rejectable(users)
    assert not rejectable(None)
    with pytest.raises(ValueError, match="autoplay"):
        command_for(Action.NOT_THIS_TRACK, GUILD, CONTEXT, users)
