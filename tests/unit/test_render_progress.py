"""The apply progress printer: Terraform-style lines, 'Still ...' beats, the live bar."""

from __future__ import annotations

import io

from reconciler.apply import Outcome
from reconciler.plan import Action
from reconciler.render import ProgressPrinter, Style


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(live: bool = False):
    out, clock = io.StringIO(), Clock()
    printer = ProgressPrinter(style=Style(color=False), out=out, live=live, total=2, clock=clock)
    return printer, out, clock


def test_lines_and_still_beats_every_ten_seconds():
    printer, out, clock = make()
    create = Action("create", "alpha")
    delete = Action("delete", "old", "voice_old")
    printer.started(create, "Creating")
    printer.started(delete, "Destroying")
    clock.now += 4
    printer.tick()  # nothing yet
    printer.finished(Outcome(delete, True, 4.0))
    clock.now += 7  # alpha at 11 s
    printer.tick()
    printer.tick()  # still within the same 10 s mark: no repeat
    clock.now += 10  # 21 s
    printer.tick()
    printer.finished(Outcome(create, True, 22.0, new_voice_id="voice_new"))
    clock.now += 30
    printer.tick()  # nothing running: silent
    assert out.getvalue().splitlines() == [
        "alpha: Creating...",
        "old: Destroying... [id=voice_old]",
        "old: Destruction complete after 4s",
        "alpha: Still creating... [10s elapsed]",
        "alpha: Still creating... [20s elapsed]",
        "alpha: Creation complete after 21s [id=voice_new]",  # since its request went out
    ]


def test_queued_work_is_shown_as_queued_and_timed_from_its_request():
    printer, out, clock = make()
    first = Action("create", "alpha")
    second = Action("create", "bravo")
    printer.queued(first, "Creating")
    printer.queued(second, "Creating")
    printer.started(first, "Creating")  # alpha's request goes out; bravo waits its turn
    clock.now += 15
    printer.tick()
    printer.finished(Outcome(first, True, 15.0, new_voice_id="voice_a"))
    printer.started(second, "Creating")  # 15 s after the run began
    clock.now += 3
    printer.tick()  # bravo has run 3 s: no 'Still creating' yet
    printer.finished(Outcome(second, True, 18.0, new_voice_id="voice_b"))
    printer.close()  # the applier always closes it; what is still buffered goes out
    assert out.getvalue().splitlines() == [
        "alpha: Creating...",
        "alpha: Still creating... [10s elapsed]",
        "alpha: Creation complete after 15s [id=voice_a]",
        "bravo: Creating...",
        "bravo: Creation complete after 3s [id=voice_b]",
    ]


def test_an_interrupted_queued_operation_says_not_started():
    printer, out, _clock = make()
    action = Action("create", "alpha")
    printer.queued(action, "Creating")
    printer.finished(Outcome(action, False, 0.0, error="not started: the run was interrupted"))
    assert out.getvalue().splitlines() == ["alpha: not started: the run was interrupted"]


def test_live_bar_is_redrawn_in_place():
    printer, out, clock = make(live=True)
    action = Action("replace", "alpha", "voice_old")
    printer.started(action, "Replacing")
    clock.now += 3
    printer.tick()
    text = out.getvalue()
    assert "alpha: Replacing... [id=voice_old]\n" in text
    assert "[........................] 0/2 done, 1 running, 3s" in text
    assert text.count("\r\x1b[2K") == 1  # the old bar was wiped before the redraw
    printer.finished(Outcome(action, False, 3.0, error="boom"))
    printer.close()
    assert out.getvalue().endswith("\r\x1b[2K")
    assert "alpha: Replacement failed after 3s: boom\n" in out.getvalue()


class CountingOut(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1

    def lines(self) -> int:
        return len(self.getvalue().splitlines())


def test_a_burst_of_lines_is_written_once_then_on_tick_and_close():
    out, clock = CountingOut(), Clock()
    printer = ProgressPrinter(style=Style(color=False), out=out, live=False, total=50, clock=clock)
    actions = [Action("create", f"v{i}") for i in range(50)]
    for action in actions:  # all within one instant of the clock
        printer.queued(action, "Creating")
        printer.started(action, "Creating")
    assert (out.lines(), out.writes) == (1, 1)  # the first line at once, the rest wait
    printer.tick()  # about once a second: what waits goes out, in one write
    assert (out.lines(), out.writes) == (50, 2)
    clock.now += printer.flush_every
    printer.finished(Outcome(actions[0], True, 1.0, new_voice_id="voice_a"))
    assert out.lines() == 51  # a line after a quiet spell goes out at once
    printer.finished(Outcome(actions[1], True, 1.0, new_voice_id="voice_b"))
    assert out.lines() == 51
    printer.close()
    assert out.lines() == 52 and out.getvalue().endswith(
        "Creation complete after 0s [id=voice_b]\n"
    )


def test_a_live_terminal_gets_every_line_at_once():
    out, clock = CountingOut(), Clock()
    printer = ProgressPrinter(style=Style(color=False), out=out, live=True, total=3, clock=clock)
    for i in range(3):
        printer.started(Action("create", f"v{i}"), "Creating")
        assert out.getvalue().count("Creating...") == i + 1
        assert out.flushes == i + 1
