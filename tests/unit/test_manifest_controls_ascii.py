"""The ASCII fast path of the control-character checks finds exactly what the full
character classes find (reconciler.manifest.controls)."""

import re

from reconciler.manifest import controls


def test_within_ascii_the_small_class_is_both_full_sets():
    for name in ("_NON_PRINTABLE_SET", "_CONTROL_SET"):
        full = re.compile(getattr(controls, name))
        for code in range(128):
            char = chr(code)
            assert bool(controls._ASCII_BAD.match(char)) == bool(full.match(char)), (name, code)


def test_text_beyond_ascii_is_checked_with_the_full_sets():
    assert controls.has_control("caf\u00e9 \x85")  # C1 NEL: a control, not in ASCII
    assert not controls.has_control("caf\u00e9\tdone")
    text, found = controls.strip_raw("a: caf\u00e9\x1b\n")
    assert text == "a: caf\u00e9 \n" and [f.char for f in found] == ["\x1b"]
    assert controls.strip_raw("a: \x85\n")[1] == []  # the YAML reader accepts NEL
