"""The DuckDB engine on several cores: persons screened in parallel processes, output unchanged.

The persons are cut, in person_id order, into contiguous ranges; each range is screened by a
process of its own (started with 'spawn': a DuckDB connection does not survive a fork) that opens
the source read-only, takes the concepts the parent placed (placed once), and runs the very loop
``run_omop`` runs, ``screen_person`` for each person, writing its rows into a part file. The parent
writes the header, then the parts in order, and adds up the tallies and warnings, so the output
file and the summary are the bytes one process would write. Each range's rows go through a file,
so memory does not grow with the run; each process gets a share of DuckDB's memory limit (at least
128 MB). A process that dies (killed for memory) stops the run with one sentence, never a hang.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trialscreen.batch.tally import Memos, Summary, TrialTally
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.patient.memo import ReadMemo

CHUNKS_PER_WORKER = 4      # more ranges than processes: the progress bar moves, and a slow range waits less


@dataclass
class Part:
    """What one range of persons gives back: its summary and counters (its rows are in its file)."""

    summary: Summary
    unplaced: Counter = field(default_factory=Counter)
    warned: Counter = field(default_factory=Counter)
    outside: int = 0
    orphans: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    path: str
    schema: str | None
    memory_limit: str
    meanings: Any           # concepts.Meanings, placed once by the parent
    trials: list
    fmt: str
    between: tuple          # (first person_id or None, the next range's first person_id or None)
    first_line: int
    limit: int | None
    options: Any            # run.PersonOptions
    part_path: str          # the file this range's rows are written to


def ranges(source, limit: int | None, chunks: int) -> list:
    """(first person_id, the next range's first person_id or None, the first line) of each range."""
    ids = "SELECT DISTINCT person_id FROM person WHERE person_id IS NOT NULL"
    if limit is not None:
        ids = f"SELECT * FROM ({ids}) ORDER BY person_id LIMIT {int(limit)}"
    groups = source.con.execute(f"SELECT min(person_id), count(*) FROM (SELECT person_id, ntile({int(chunks)}) "
                                f"OVER (ORDER BY person_id) AS g FROM ({ids})) GROUP BY g ORDER BY g").fetchall()
    out, line = [], 1
    for i, (first, count) in enumerate(groups):
        following = groups[i + 1][0] if i + 1 < len(groups) else None
        out.append((first if i else None, following, line))
        line += count
    return out


def run_parallel(source, trials, writer, meanings, *, workers: int, memory_limit: str, schema: str | None,
                 limit: int | None, options, progress=None) -> tuple:
    """Screen every person of ``source`` in ``workers`` processes into ``writer`` (header written by
    the caller); the merged summary and counters (unplaced, warned, outside, orphans). Each range's
    rows go through a file of its own, copied into ``writer`` in order and removed."""
    import multiprocessing
    import shutil
    import tempfile
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from trialscreen.errors import ResourceError

    per_worker = f"{max(128, _megabytes(memory_limit) // workers)}MB"
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    unplaced: Counter = Counter()
    warned: Counter = Counter()
    outside, done = 0, 0
    orphans: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="trialscreen-omop-") as folder:
        jobs = [Job(str(source.path), schema, per_worker, meanings, trials, writer.fmt, (lo, hi), line, limit,
                    options, f"{folder}/part{n}") for n, (lo, hi, line) in
                enumerate(ranges(source, limit, workers * CHUNKS_PER_WORKER))]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(screen_range, job) for job in jobs]
            try:
                for job, future in zip(jobs, futures):      # in order: each part as soon as it is done
                    part = future.result()
                    with open(job.part_path, encoding="utf-8", newline="") as fh:
                        shutil.copyfileobj(fh, writer.stream)
                    _add(summary, part.summary)
                    unplaced.update(part.unplaced)
                    warned.update(part.warned)
                    outside += part.outside
                    orphans.update(part.orphans)
                    done += part.summary.rows_in
                    if progress is not None:
                        progress(done)
            except BrokenProcessPool:
                raise ResourceError("a screening process stopped before its persons were screened (out of "
                                    "memory?)", hint="run with fewer --workers, or --workers 1") from None
            finally:
                for future in futures:
                    future.cancel()
    return summary, unplaced, warned, outside, dict(orphans)


def screen_range(job: Job) -> Part:
    """One range of persons, in a process of its own: the loop of ``run_omop``, rows into its file."""
    from trialscreen.omop.assemble import person_rows
    from trialscreen.omop.concepts import register_meanings
    from trialscreen.omop.run import screen_person
    from trialscreen.omop.source import open_source
    from trialscreen.render.batch import Writer

    source = open_source(job.path, schema=job.schema, memory_limit=job.memory_limit)
    try:
        register_meanings(source.con, job.meanings)
        summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in job.trials])
        memos = Memos(ReadMemo(), CriterionMemo())
        part = Part(summary)
        with open(job.part_path, "w", encoding="utf-8", newline="") as out:
            writer = Writer(out, job.fmt, job.trials)
            rows = person_rows(source, job.options.as_of, job.limit, part.orphans, between=job.between)
            for line, person in enumerate(rows, job.first_line):
                noted = screen_person(summary, writer, job.trials, person, line, job.options, memos)
                part.unplaced.update(noted.unplaced)
                part.warned.update(noted.warned)
                part.outside += noted.outside
        return part
    finally:
        source.close()


def default_workers() -> int:
    """The CPUs this process may use (a container's share, not the host's count)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # not on Linux
        return max(1, os.cpu_count() or 1)


def _add(total: Summary, part: Summary) -> None:
    total.rows_in += part.rows_in
    total.rows_out += part.rows_out
    total.error_rows += part.error_rows
    total.internal_errors += part.internal_errors
    total.errors = (total.errors + part.errors)[:20]
    for mine, theirs in zip(total.trials, part.trials):
        mine.merge(theirs)


def _megabytes(limit: str) -> int:
    text = limit.strip().upper().rstrip("B").rstrip("I")
    scale = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}.get(text[-1:], 1 / (1024 * 1024))
    number = text[:-1] if text[-1:] in "KMGT" else text
    return int(float(number) * scale)
