"""One day's SP office digest for a whole state: 17,000 stations, 10 million feedback.

    .venv/bin/python bench/digest_scale.py                        # SQLite, then PostgreSQL
    .venv/bin/python bench/digest_scale.py --backend sqlite --feedback 1000000

The state is one district of --stations stations (the worst case for one digest: every
station is ranked in it), with --feedback feedback spread over --days days, each with
its scores, improper-demand answer and, for one in five, a comment; negative ones have
alerts (those of the last three days still open), and a tenth of the citizens agreed
to a follow-up. The database is made by the app's own migrations; rows are bulk-loaded.

Then the digest for the last day is built three times, as `prayas digest --print` does
(queries, Babel, the chart; not the sending):
  cold     the first digest ever: all seven days rolled up from the feedback;
  morning  the usual morning: the six earlier days were rolled up yesterday, the
           day reported was not;
  again    nothing changed since (a second SP office officer, a retry).
The target (issue #6) is at most 2 s whatever the size of the history.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, text  # noqa: E402
from sqlmodel import Session as Db  # noqa: E402

from bot.app import build_app  # noqa: E402
from scheduler.digests.chart import drawn as drawn_chart  # noqa: E402
from scheduler.digests.chart_process import ChartProcess  # noqa: E402
from scheduler.digests.digest import Digest  # noqa: E402
from storage.models import RolledUpDay, StationDay  # noqa: E402

LAST_DAY = date(2026, 11, 28)
KINDS = ["thana"] * 6 + ["chowki"] * 3 + ["office"]
CHUNK = 200_000


def write_config(path: Path, stations: int) -> None:
    lines = ['campaign: {title_hi: "प्रयास", title_en: "Prayas"}', "districts:",
             "  - code: CG", "    name_hi: छत्तीसगढ़", "    name_en: Chhattisgarh",
             '    sp_office: {name_hi: "पुलिस मुख्यालय", name_en: "Police Headquarters"}',
             "    stations:"]
    lines += [f'      - {{code: S{n:05d}, kind: {KINDS[n % 10]}, name_hi: "थाना {n}", '
              f'name_en: "Station {n}"}}' for n in range(stations)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def feedback_rows(count: int, stations: int, days: int, seed: int = 7) -> Iterator[tuple]:  # type: ignore[type-arg]
    """(feedback, answers, alert, follow-up) per feedback, oldest first."""
    rng = random.Random(seed)
    end = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 18, 30, tzinfo=UTC)
    span = days * 86400
    senders = [f"{rng.getrandbits(128):032x}" for _ in range(count // 3 + 1)]
    for n in range(1, count + 1):
        started = end - timedelta(seconds=span * (1 - n / count))
        station = f"S{rng.randrange(stations):05d}"
        complete = rng.random() < 0.93
        updated = started + timedelta(minutes=4)
        row = (n, f"FB-{n:09d}", station, rng.choice(senders), "telegram", "hi",
               "complete" if complete else "incomplete", started, updated,
               updated if complete else None)
        behaviour = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
        answers = [(n, "behaviour", f"b{behaviour}", behaviour, None)]
        alert = None
        if complete:
            satisfaction = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
            demand = "yes" if rng.random() < 0.02 else "no"
            answers += [(n, "satisfaction", f"s{satisfaction}", satisfaction, None),
                        (n, "demand", demand, None, None)]
            if rng.random() < 0.2:
                answers.append((n, "comment", None, None, "मुंशी जी ने दो घंटे बैठाया"))
            if demand == "yes" or behaviour <= 2 or satisfaction <= 2:
                recent = end - started < timedelta(days=3)
                alert = (n, station, "negative", "red" if demand == "yes" else "normal",
                         "open" if recent else "acknowledged", updated)
        follow = (n, updated + timedelta(days=7)) if complete and n % 10 == 0 \
            and end - started > timedelta(days=7) else None
        yield row, answers, alert, follow


FEEDBACK_COLUMNS = ("id, reference, station_code, sender, channel, language, status, "
                    "started_at, updated_at, completed_at")
ANSWER_COLUMNS = "feedback_id, question_id, option_id, value, text"
ALERT_COLUMNS = "feedback_id, station_code, rule, severity, status, created_at"
LOADED = "('feedback', 'answer', 'alert', 'follow_up')"


def load_sqlite(path: Path, rows: Iterator[tuple], total: int) -> None:  # type: ignore[type-arg]
    def iso(t: datetime | None) -> str | None:  # as the app stores them: naive UTC
        return None if t is None else t.replace(tzinfo=None).isoformat(sep=" ")

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-2000000")
    # Indexes are built after the load, as bulk loads are done: kept up row by row, the
    # sender index alone (random keys) slows the load to ~3,000 rows/s past a few million.
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN {LOADED}").fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.execute("BEGIN")
    done = 0
    for batch in _chunks(rows):
        connection.executemany(f"INSERT INTO feedback ({FEEDBACK_COLUMNS}, merged_into) VALUES "
                               "(?,?,?,?,?,?,?,?,?,?,NULL)",
                               [(*r[:7], iso(r[7]), iso(r[8]), iso(r[9])) for r, *_ in batch])
        connection.executemany(f"INSERT INTO answer ({ANSWER_COLUMNS}, skipped) VALUES "
                               "(?,?,?,?,?,0)", [a for _, answers, _, _ in batch for a in answers])
        connection.executemany(f"INSERT INTO alert ({ALERT_COLUMNS}) VALUES (?,?,?,?,?,?)",
                               [(*a[:5], iso(a[5])) for _, _, a, _ in batch if a])
        connection.executemany("INSERT INTO follow_up (feedback_id, asked_at) VALUES (?,?)",
                               [(f[0], iso(f[1])) for *_, f in batch if f])
        done += len(batch)
        _progress(done, total)
    connection.execute("COMMIT")
    _build_indexes(connection, [sql for _, sql in indexes])
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(url: str, rows: Iterator[tuple], total: int) -> None:  # type: ignore[type-arg]
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        # As for SQLite: secondary indexes after the load; foreign keys are not checked
        # row by row (the generator makes them consistent).
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            f"AND tablename IN {LOADED} AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)").fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("SET session_replication_role = replica")
        connection.commit()
        done = 0
        for batch in _chunks(rows):
            with connection.cursor() as cursor:
                for table, columns, items in (
                        ("feedback", FEEDBACK_COLUMNS, [r for r, *_ in batch]),
                        ("answer", ANSWER_COLUMNS + ", skipped",
                         [(*a, False) for _, answers, _, _ in batch for a in answers]),
                        ("alert", ALERT_COLUMNS, [a for _, _, a, _ in batch if a]),
                        ("follow_up", "feedback_id, asked_at", [f for *_, f in batch if f])):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for item in items:
                            copy.write_row(item)
            connection.commit()
            done += len(batch)
            _progress(done, total)
        connection.execute("SELECT setval('feedback_id_seq', (SELECT max(id) FROM feedback))")
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.commit()
        _build_indexes(connection, [sql for _, sql in indexes])
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def _build_indexes(connection: object, statements: list[str]) -> None:
    for n, statement in enumerate(statements, 1):
        print(f"\r  building indexes {n}/{len(statements)}", end="", file=sys.stderr, flush=True)
        connection.execute(statement)  # type: ignore[attr-defined]
    print(file=sys.stderr)


def _chunks(rows: Iterator[tuple]) -> Iterator[list[tuple]]:  # type: ignore[type-arg]
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress(done: int, total: int) -> None:
    width = 40
    filled = width * done // total
    print(f"\r  loading [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
          end="" if done < total else "\n", file=sys.stderr, flush=True)


def measure(config: Path, profile: str | None, text_file: Path | None = None,
            chart_here: bool = False) -> dict[str, float]:
    os.environ["PRAYAS_CONFIG"] = str(config)
    app = build_app(config)
    district = app.config.districts[0]
    now = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), UTC) + \
        timedelta(hours=2, minutes=30)
    figures: dict[str, float] = {}
    for label in ("cold", "morning", "again"):
        if label == "cold":  # no rollups at all (a kept database has a run's)
            with Db(app.engine) as db, db.begin():
                db.execute(delete(StationDay))
                db.execute(delete(RolledUpDay))
        if label == "morning":  # forget the day reported, as if rolled up only till the 27th
            with Db(app.engine) as db, db.begin():
                db.execute(delete(StationDay).where(StationDay.day == LAST_DAY))  # type: ignore[arg-type]
                db.execute(delete(RolledUpDay).where(RolledUpDay.day == LAST_DAY))  # type: ignore[arg-type]
        # The chart is drawn once per content (lru_cache); the service's 09:00 digest is
        # the day's first, so every run here draws it again.
        drawn_chart.cache_clear()
        # The service's leader keeps a chart process for a district this big, started
        # with the service; a fresh one each run, so no chart is remembered from the last.
        charts = None if chart_here else ChartProcess()
        if charts is not None:
            charts.ready()
        # A Digest keeps what it built for the officers of one batch: a new one each run.
        digest = Digest(app.engine, app.config, app.catalogs, charts)
        profiler = cProfile.Profile() if label == profile else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        reply = digest.daily(district, LAST_DAY, "hi", now)
        text_ = app.catalogs.render(reply)
        figures[label] = time.perf_counter() - began
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
        if charts is not None:
            charts.close()
    if text_file:  # to read what the SP office would read
        text_file.write_text(text_, encoding="utf-8")
    figures["lines"] = text_.count("\n") + 1
    figures["chars"] = len(text_)
    figures["png_kb"] = len(reply.image or b"") / 1024
    app.engine.dispose()
    return figures


def reference_seconds() -> float:
    """A fixed pure-Python workload, timed in the same run: this shared machine's speed
    moves by half from one hour to the next, and the digest's seconds move with it."""
    began = time.perf_counter()
    sum(i * i % 7 for i in range(5_000_000))
    return time.perf_counter() - began


def run(backend: str, args: argparse.Namespace, work: Path,
        server: str = "") -> dict[str, float]:
    """Load one backend and measure; `server` is PostgreSQL's admin URL."""
    config = work / f"{backend}.yaml"
    write_config(config, args.stations)
    rows = feedback_rows(args.feedback, args.stations, args.days)
    name = f"state_{args.stations}_{args.feedback}_{args.days}"  # what a kept one holds
    began = time.perf_counter()
    # Loaded under a temporary name and renamed when complete: an interrupted load is
    # never mistaken for a kept one.
    if backend == "sqlite":
        path, loading = work / f"{name}.sqlite", work / f"{name}.loading.sqlite"
        if not path.exists():
            loading.unlink(missing_ok=True)
            os.environ["DATABASE_URL"] = f"sqlite:///{loading}"
            build_app(config).engine.dispose()  # the app's migrations make the schema
            load_sqlite(loading, rows, args.feedback)
            loading.rename(path)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": name}).first():
                conn.execute(text('DROP DATABASE IF EXISTS "loading"'))
                conn.execute(text('CREATE DATABASE "loading"'))
                os.environ["DATABASE_URL"] = f"{server}/loading"
                build_app(config).engine.dispose()
                load_postgres(f"{server}/loading", rows, args.feedback)
                conn.execute(text(f'ALTER DATABASE "loading" RENAME TO "{name}"'))
        admin.dispose()
        os.environ["DATABASE_URL"] = f"{server}/{name}"
    loaded = time.perf_counter() - began
    text_file = args.text and args.text.with_suffix(f".{backend}.txt")
    figures = measure(config, args.profile, text_file, args.chart_here)
    figures["reference_s"] = reference_seconds()
    figures["load_s"] = loaded
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=17_000)
    parser.add_argument("--feedback", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=730, help="how far back the history goes")
    parser.add_argument("--profile", nargs="?", const="again",
                        choices=["cold", "morning", "again"],
                        help="print where that digest's time went (cProfile; default again)")
    parser.add_argument("--chart-here", action="store_true",
                        help="draw the chart in this process, as a small district's service "
                             "does (for comparison: a state's district has a chart process)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--text", type=Path, metavar="FILE",
                        help="write the digest's text to FILE.<backend>.txt")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the loaded databases in DIR and reuse them next time "
                             "(the load of 10 million takes a quarter of an hour)")
    args = parser.parse_args()
    os.environ.setdefault("PRAYAS_HMAC_KEY", "bench-key-" + "0" * 40)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"{args.stations:,} stations, {args.feedback:,} feedback over {args.days} days; "
          f"the digest of {LAST_DAY} (target: at most 2 s)")
    print("| backend | cold | morning | again | lines | PNG | load | reference loop |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="prayas-digest-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        os.environ["PRAYAS_DATA_DIR"] = str(work / "data")
        for backend in backends:  # each row printed when measured
            print(f"{backend}: {args.stations:,} stations, {args.feedback:,} feedback over "
                  f"{args.days} days", file=sys.stderr)
            if backend == "postgres":
                from tests.pg import throwaway_postgres

                with throwaway_postgres("shared_buffers=512MB", "work_mem=64MB",
                                        keep=args.keep and args.keep / "postgres") as server:
                    f = run(backend, args, work, server)
            else:
                f = run(backend, args, work)
            print(f"| {backend} | {f['cold']:.2f} s | {f['morning']:.2f} s | "
                  f"{f['again']:.2f} s | {f['lines']:.0f} ({f['chars']:,.0f} chars) | "
                  f"{f['png_kb']:.0f} KB | {f['load_s']:.0f} s | {f['reference_s']:.2f} s |",
                  flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
