"""The live progress display on stderr: one bar per measurement, with its rate."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed or not task.completed:
            return Text("", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:>10,.0f}/s", style="progress.data.speed")


def make_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<33}"),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        refresh_per_second=4,
    )
