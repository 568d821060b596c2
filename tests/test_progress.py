"""Progress bars: rate column, a silent bar when disabled, the rich bar counting steps, and notices only on
a terminal."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from stylefuse import progress


@pytest.mark.parametrize("speed, text", [(None, "  -- it/s"), (0.0, "  -- it/s"), (12.5, "12.50 it/s"),
                                         (0.25, " 4.00 s/it")])
def test_rate_column(speed, text) -> None:
    assert progress.RateColumn().render(SimpleNamespace(speed=speed)).plain == text


def test_a_disabled_bar_is_silent(capsys) -> None:
    with progress.progress_bar("work", total=3, enabled=False) as bar:
        for _ in range(3):
            bar.update(advance=1, status="loss 1.0")
    assert capsys.readouterr() == ("", "")


def test_an_enabled_bar_counts_the_steps_and_shows_the_status(monkeypatch) -> None:
    from rich.console import Console

    out = io.StringIO()
    monkeypatch.setattr(progress, "Progress", lambda *columns, **kw: __import__("rich.progress").progress.Progress(
        *columns, console=Console(file=out, force_terminal=False, width=200), **kw))
    with progress.progress_bar("stylizing", total=4) as bar:
        for _ in range(4):
            bar.update(advance=1, status="tile ok")
        task = bar.progress.tasks[bar.task]
        assert task.completed == 4 and task.total == 4 and task.fields["status"] == "tile ok"
    text = out.getvalue()
    assert "stylizing" in text and "4/4" in text and "tile ok" in text


def test_a_notice_is_one_line_on_a_terminal_only(monkeypatch, capsys) -> None:
    progress.notice("extracting VGG16 weights")
    assert capsys.readouterr() == ("", "")  # pytest's stderr is not a terminal
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(progress.sys, "stderr", terminal)
    progress.notice("extracting VGG16 weights")
    assert terminal.getvalue() == "stylefuse: extracting VGG16 weights\n"
