"""Pure parts of the processor: state_seq, identifiers, load choice, replies, the handler map."""

from __future__ import annotations

import typing

from backbeat.audio.handlers import HANDLERS, READ_ONLY
from backbeat.audio.handlers.play import chosen
from backbeat.audio.handlers.search import choice
from backbeat.audio.replies import error_reply, notice
from backbeat.audio.search import plain_message
from backbeat.audio.seq import StateSeq
from backbeat.cache.search import Loaded
from backbeat.domain.messages import DiscordContext, InteractionRef
from backbeat.domain.messages.commands import Command, Pause
from backbeat.domain.playback_errors import classify
from backbeat.domain.queue import QueueTrack
from backbeat.domain.search_query import to_identifier


def test_state_seq_rises_per_guild_even_when_the_clock_stands_still_or_steps_back() -> None:
    now = [5_000_000]
    seq = StateSeq(clock_ns=lambda: now[0])
    first, second = seq.next(1), seq.next(1)
    assert second == first + 1
    now[0] = 1_000  # the clock steps back
    assert seq.next(1) == second + 1
    assert seq.next(2) == 1  # another guild follows the clock
    restarted = StateSeq(clock_ns=lambda: 9_000_000_000)
    assert restarted.next(1) > second  # a later process starts above


def test_queries_go_as_searches_and_urls_as_given() -> None:
    assert to_identifier("never gonna") == "ytsearch:never gonna"
    assert to_identifier("x", "scsearch") == "scsearch:x"
    url = "https://youtu.be/dQw4w9WgXcQ"
    assert to_identifier(url) == url
    assert to_identifier("ytsearch:x") == "ytsearch:ytsearch:x"


def _tracks(n: int) -> tuple[QueueTrack, ...]:
    return tuple(QueueTrack(encoded=f"e{i}", identifier=f"i{i}", title=f"t{i}") for i in range(n))


def test_a_search_adds_its_best_match_and_a_playlist_up_to_the_cap() -> None:
    assert chosen(Loaded(_tracks(5), "search"), 10) == _tracks(1)
    assert chosen(Loaded(_tracks(1), "track"), 10) == _tracks(1)
    assert chosen(Loaded(_tracks(5), "playlist", "mix"), 3) == _tracks(3)
    assert chosen(Loaded((), "search"), 3) == ()


def test_a_suggestion_is_title_and_author_with_the_link_when_it_fits() -> None:
    track = QueueTrack(
        encoded="e",
        identifier="abc",
        title="Gentle Pulse",
        author="Harbor Pilots",
        uri="https://x.y/abc",
    )
    option = choice(track)
    assert (option.name, option.value) == ("Gentle Pulse — Harbor Pilots", "https://x.y/abc")
    long_uri = QueueTrack(
        encoded="e", identifier="abc", title="T" * 150, uri="https://x/" + "a" * 100
    )
    option = choice(long_uri)
    assert len(option.name) == 100
    assert option.value == "T" * 100  # too long a link: searched for by its words


def test_a_refusal_or_a_skip_promises_no_retry() -> None:
    network = classify("Something went wrong", "java.net.SocketTimeoutException: timed out")
    assert network.user_message.endswith("trying again.")
    assert plain_message(network) == "A network problem interrupted this track."
    unavailable = classify("This video is unavailable")
    assert plain_message(unavailable) == unavailable.user_message


def test_replies_only_when_an_interaction_waits() -> None:
    interaction = InteractionRef(id=1, token="t", application_id=2, created_at=0.0)
    asked = Pause(guild_id=5, context=DiscordContext(user_id=3, interaction=interaction))
    silent = Pause(guild_id=5, context=DiscordContext(user_id=3))
    reply = error_reply(asked, "queue_full", "full", limit=3, command="x")
    assert reply is not None
    assert reply.correlation_id == asked.id
    assert reply.payload.params == {"limit": 3, "command": "x"}
    assert notice(silent, "pause.paused") is None
    assert error_reply(silent, "x", "y") is None


def test_every_command_of_the_issue_has_a_handler() -> None:
    union = typing.get_args(typing.get_args(Command)[0])
    types = {typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union}
    assert set(HANDLERS) == types
    assert {"queue", "nowplaying"} <= READ_ONLY
    assert not READ_ONLY & {"play", "skip", "volume", "stop"}
