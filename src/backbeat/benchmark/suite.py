"""The order of the measures and what the report says beside each (seed, target, limit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backbeat.benchmark import measures as m
from backbeat.benchmark import throughput
from backbeat.benchmark.progress import Progress
from backbeat.benchmark.report import Measure, Report
from backbeat.benchmark.rig import running_bot

if TYPE_CHECKING:
    from backbeat.benchmark.cli import Plan

SHARED = "one process and event loop for the gateway, audio, both emulators and the load"
SEED_RATE = "~50–100 commands/s per service instance"
SEED_ACK = "< 100 ms"
TARGET_ACK = "p99 < 10 ms"
TARGET_NP = "p99 < 100 ms"


async def run_suite(plan: Plan, redis_url: str, postgres_url: str, *, quick: bool) -> Report:
    progress = Progress(phases=9)
    report = Report(
        "quick" if quick else "full",
        {
            "bus": "Redis (loopback)",
            "database": "PostgreSQL (loopback)",
            "emulators": "Discord and Lavalink, in the same process",
            "guilds": plan.guilds,
        },
    )
    progress.step("starting the bot, creating guilds", plan.guilds)
    async with running_bot(redis_url, postgres_url) as bot:
        places = await m.make_places(bot, plan.guilds, progress)

        progress.step("/play -> now playing (bot not in voice)", len(places))
        cold = []
        for place in places:
            cold.append(await m.play_to_now_playing_ms(bot, place))
            progress.advance()
        report.measures.append(
            Measure.latency(
                "/play → now-playing message, bot not yet in voice",
                cold,
                seed="playback start < 2 s (with voice connection)",
                target=TARGET_NP,
                limited_by="the voice handshake (op 4, two raw events over Redis, Lavalink's "
                "voice update) and the search before the first play; " + SHARED,
            )
        )

        progress.step("interaction ack, idle", plan.idle_acks)
        idle = await m.idle_acks(bot, places[0], plan.idle_acks, progress)
        report.measures.append(
            Measure.latency(
                "interaction acknowledgement, idle",
                idle,
                seed=SEED_ACK,
                target=TARGET_ACK,
                limited_by="the gateway's checks before the ack (settings and rate limit "
                "from the cache) and discord.py's HTTP call; " + SHARED,
            )
        )

        progress.step(f"closed loop, {len(places)} guilds", int(plan.loop_s * 2))
        answered, elapsed, loaded = await m.closed_loop(bot, places, plan.loop_s, progress)
        report.measures.append(
            Measure(
                f"answered slash commands/s, {len(places)} guilds closed loop "
                "(pause, resume, volume, queue, play, skip)",
                "commands/s",
                SEED_RATE,
                "— (≥ 2,000/s is the audio worker's target, measured below)",
                "the whole path per command (Discord emulator → gateway → Redis → audio → "
                "PostgreSQL → Lavalink → Redis → gateway → Discord) with only "
                f"{len(places)} in flight; " + SHARED,
                value=round(answered / elapsed, 1),
                samples=answered,
            )
        )
        report.measures.append(
            Measure.latency(
                f"interaction acknowledgement under that load ({len(places)} in flight)",
                loaded,
                seed=SEED_ACK,
                target=TARGET_ACK,
                limited_by="the event loop busy with the answers of the other guilds; " + SHARED,
            )
        )

        total = plan.per_guild * len(places)
        progress.step("commands through the audio worker", total)
        count, seconds = await m.worker_throughput(bot, places, plan.per_guild, progress)
        report.measures.append(
            Measure(
                "commands/s through one audio worker over Redis + PostgreSQL, in the bot's process",
                "commands/s",
                SEED_RATE,
                "≥ 2,000 commands/s",
                "the worker's CPU per SQL statement (commands of many guilds share a "
                "transaction, but each still runs its own statements) and, here, the load "
                "and both emulators in the same event loop; " + SHARED,
                value=round(count / seconds, 1),
                samples=count,
                notes="published at once on `commands` (not through Discord), mix of "
                "bench/audio_commands.py: volume 30 %, toggle 20 %, seek 15 %, loop 15 %, "
                f"play 10 %, queue page 10 %; {len(places)} playing guilds; timed to the last "
                "command handled (audio's `audio_command_duration_seconds` count).",
            )
        )

        chosen = places[: plan.in_voice]
        progress.step("/play -> now playing (bot in voice)", len(chosen))
        warm = []
        for place in chosen:
            await m.stop_keeping_voice(bot, place)
            if not await m.in_voice(bot, place):
                raise RuntimeError("the bot left voice on /stop; cannot measure in voice")
            warm.append(await m.play_to_now_playing_ms(bot, place))
            progress.advance()
        report.measures.append(
            Measure.latency(
                "/play → now-playing message, bot already in voice",
                warm,
                seed="UI updates < 500 ms",
                target=TARGET_NP,
                limited_by="play's SQL transaction, the cached search, the Lavalink play, "
                "two bus hops and the message post; " + SHARED,
            )
        )

        progress.step("search cache hits (Redis)", plan.search_runs)
        hits = await m.search_hits(bot, plan.search_runs, progress)
        report.measures.append(
            Measure.latency(
                "search cache hit (Redis)",
                hits,
                seed="track search < 1 s (with cache)",
                target="p99 < 1 ms",
                limited_by="one Redis GET round trip over loopback and decoding the results",
            )
        )

        progress.step(f"{plan.players} more live players", plan.players)
        players, grown, cores = await m.live_players(bot, plan.players, plan.idle_s, progress)
        per = 1000 / max(1, plan.players)
        report.measures.append(
            Measure(
                "memory per 1,000 live players",
                "MiB",
                "—",
                "10,000 live players per audio worker",
                "RSS of the whole process: the emulators' guilds, players and messages grow "
                "with it (an upper bound for the bot alone)",
                value=round(grown * per / 2**20, 1),
                samples=players,
                notes=f"{plan.players} guilds started playing, {players} Lavalink players "
                "alive in all; scaled to 1,000. Starting more is bounded by Discord's gateway "
                "send limit: 120 commands a minute per shard (discord.py paces them), one voice "
                "join (op 4) per new player, so one shard starts at most ~2 players a second.",
            )
        )
        report.measures.append(
            Measure(
                "CPU per 1,000 live players, idle (playing, no commands)",
                "cores",
                "—",
                "10,000 live players per audio worker",
                "player updates from Lavalink and the bot's timers; includes the Lavalink "
                "emulator's own work for them",
                value=round(cores * per, 3),
                samples=players,
            )
        )
    progress.step("commands through an audio worker in its own process", plan.throughput_guilds)
    options = throughput.Options(
        guilds=plan.throughput_guilds,
        saturate_rate=plan.throughput_rate,
        saturate_s=plan.throughput_s,
        latency_s=plan.throughput_s / 2,
        profile=False,
    )
    result = await throughput.run(options, redis_url)
    saturation, latency = result["saturation"], result["latency"]
    cpu = saturation["cpu_percent"]
    report.measures.append(
        Measure(
            f"commands/s through one audio worker in its own process, {result['guilds']} guilds",
            "commands/s",
            SEED_RATE,
            "≥ 2,000 commands/s",
            "the worker's CPU: Python per SQL statement (SQLAlchemy, asyncpg) with about "
            f"{saturation['sql_statements_per_command']} statements per command although "
            f"{saturation['commands_per_batch_transaction']} commands share a transaction",
            value=saturation["commands_per_s"],
            samples=saturation["answered_in_window"],
            notes=f"mix: {result['mix']}; offered {saturation['offered_per_s']:.0f}/s for "
            f"{saturation['window_s']} s; {saturation['transactions_per_s']} transactions/s, "
            f"{saturation['redis_round_trips_per_command']} Redis round trips per command; CPU "
            f"% of a core: worker {cpu['worker']}, PostgreSQL {cpu['postgresql']}, Redis "
            f"{cpu['redis']}, emulator {cpu['emulator']} (bench/audio_throughput.py)",
        )
    )
    report.measures.append(
        Measure(
            "command → `ui:now` through that worker (probes under load)",
            "ms",
            "UI updates < 500 ms",
            TARGET_NP,
            f"queueing behind the load offered at {latency['offered_per_s']:.0f}/s",
            p50=latency["to_ui_p50_ms"],
            p99=latency["to_ui_p99_ms"],
            samples=latency["probe_samples"],
        )
    )
    progress.close()
    return report
