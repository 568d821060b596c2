"""Progress bars with rate and ETA for long work (rich), silent when disabled, and one-line notices."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Steps per second (or seconds per step when slower than one a second)."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        if not speed:
            return Text("  -- it/s")
        return Text(f"{speed:5.2f} it/s" if speed >= 1 else f"{1 / speed:5.2f} s/it")


class _SilentBar:
    def update(self, advance: int = 0, **fields: object) -> None:
        pass


class _RichBar:
    def __init__(self, progress: Progress, task: int) -> None:
        self.progress, self.task = progress, task

    def update(self, advance: int = 0, **fields: object) -> None:
        self.progress.update(self.task, advance=advance, **fields)


@contextlib.contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[_RichBar | _SilentBar]:
    """A bar showing steps done, rate, elapsed time, ETA and a free-text ``status`` field.

    Use ``bar.update(advance=1, status="loss 1.23")``.
    """
    if not enabled:
        yield _SilentBar()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=total, status="")
        yield _RichBar(progress, task)


def notice(message: str) -> None:
    """Say on stderr, in one line, what slow one-off work is happening (e.g. a first-use extraction),
    when stderr is a terminal: never in tests, pipes or logs that parse stderr."""
    if sys.stderr.isatty():
        print(f"stylefuse: {message}", file=sys.stderr, flush=True)
