"""libyaml's C loader and the pure-Python one give the same values, positions and problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.yamlpos import LOADER, YamlSyntaxError, load_yaml

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    (ROOT / "voices.yaml.example").read_text(),
    "version: 1\nvoices:\n  a: {file: a.wav, tags: [x, 'y', \"z\"], protect: yes}\n",
    "a: &x {k: 1}\nb:\n  <<: *x\n  j: 2024-01-05\nc: 1_000\nd: null\ne: ~\nf: 1.5\n",
    "dup: 1\ndup: 2\nnested:\n  - {a: 1, a: 2}\n",
    'bad: !!python/object:os.system x\nok: "caf\\u00e9"\n',
    "r: &r [*r]\n",
]


def _view(doc):
    return (
        doc.data,
        {p: (i.pos, i.key_pos, i.kind, i.plain, i.text) for p, i in doc.nodes.items()},
        [(p.pos, p.path, p.message) for p in doc.problems],
    )


@pytest.mark.skipif(LOADER is yaml.SafeLoader, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("text", TEXTS)
def test_both_loaders_agree(text):
    c = load_yaml(text, loader_class=yaml.CSafeLoader)
    pure = load_yaml(text, loader_class=yaml.SafeLoader)
    assert repr(_view(c)) == repr(_view(pure))


@pytest.mark.parametrize("text", ["a: {b: 1\nc: 2\n", "a: 1\n---\nb: 2\n", "a: 'open\n"])
def test_syntax_errors_read_the_same_whichever_loader_parsed(text):
    with pytest.raises(YamlSyntaxError) as default:
        load_yaml(text)
    with pytest.raises(YamlSyntaxError) as pure:
        load_yaml(text, loader_class=yaml.SafeLoader)
    assert (default.value.pos, default.value.message) == (pure.value.pos, pure.value.message)


# A character the YAML reader refuses (the pure one when it is made, libyaml while it
# parses, counting bytes): one YamlSyntaxError at its line:col, never a ReaderError.
RAW_CONTROLS = ["\x1b", "\x00", "\x01", "\x7f", "\x9b", "\ufffe"]


@pytest.mark.parametrize("char", RAW_CONTROLS, ids=[f"U+{ord(c):04X}" for c in RAW_CONTROLS])
@pytest.mark.parametrize("loader_class", [None, yaml.SafeLoader, LOADER])
def test_a_raw_control_character_is_a_syntax_error_at_its_position(char, loader_class):
    text = f"caf\u00e9: 1\nname: 'Nar{char}rator'\n"  # a non-ASCII byte before it
    with pytest.raises(YamlSyntaxError) as caught:
        load_yaml(text, loader_class=loader_class)
    assert caught.value.pos == (2, 11)
    assert caught.value.message == (
        f"character U+{ord(char):04X} cannot be read as YAML (a control character?): remove it"
    )
    assert "\n" not in str(caught.value)


def test_the_environments_of_a_manifest_with_a_control_character_are_read(tmp_path):
    """The light read of ``environments:`` reads what the full load reads (control
    characters replaced), so --env still finds them and the load names the character."""
    from reconciler.engine.environments import declared

    manifest = tmp_path / "voices.yaml"
    manifest.write_text(
        "version: 1\nenvironments:\n  dev: {apiKeyEnv: DEV_KEY}\n"
        'voices:\n  a: {file: a.wav, displayName: "Nar\x1b[0mrator"}\n'
    )
    assert list(declared(manifest)) == ["dev"]
    assert declared(manifest)["dev"].key_env == "DEV_KEY"
