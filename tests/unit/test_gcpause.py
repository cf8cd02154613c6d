"""The collector pause and freeze around a run's big builds (reconciler.gcpause)."""

import gc

import pytest

from reconciler import gcpause


def test_paused_turns_the_collector_off_and_back_on_even_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_collector_to_the_outer_one():
    with gcpause.paused():
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_inside_a_disabled_collector_does_not_turn_it_on():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_frozen_keeps_what_is_alive_out_of_the_scans_until_the_block_ends():
    kept = [[n] for n in range(1000)]
    before = gc.get_freeze_count()
    with gcpause.frozen():
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == 0
    assert kept[-1] == [999]
