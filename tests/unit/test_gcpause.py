"""The collector pause around a run's big builds (reconciler.gcpause)."""

import gc

import pytest

from reconciler import gcpause


def test_paused_turns_the_collector_off_and_back_on_even_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_nested_pause_leaves_the_collector_and_the_freeze_to_the_outer_one():
    with gcpause.paused():
        with gcpause.paused():
            pass
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_a_pause_inside_a_disabled_collector_does_not_turn_it_on():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_what_a_pause_built_is_frozen_out_of_later_scans_until_thawed():
    with gcpause.paused():
        kept = [[n] for n in range(1000)]
    assert gc.get_freeze_count() >= len(kept)
    gcpause.thaw()
    assert gc.get_freeze_count() == 0
    assert kept[-1] == [999]


def test_a_cycle_made_after_the_pause_is_still_collected():
    class Node:
        pass

    with gcpause.paused():
        pass
    node = Node()
    node.me = node  # type: ignore[attr-defined]
    del node
    assert gc.collect() >= 1


def test_reading_a_manifests_environments_is_a_paused_build(tmp_path):
    """The first read of a manifest (which environments does it declare?) builds the
    document the run's load then reuses: no cycle scans while it is built, frozen after."""
    from reconciler.engine import environments

    lines = "".join(f"  v{i}: {{file: v{i}.wav}}\n" for i in range(200))
    (tmp_path / "voices.yaml").write_text("version: 1\nvoices:\n" + lines)
    assert gc.get_freeze_count() == 0
    assert environments.declared(tmp_path / "voices.yaml") == {}
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
