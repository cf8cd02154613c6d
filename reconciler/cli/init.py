"""`voicectl init`: scaffold a voicectl project in a folder.

Writes ``voices.yaml`` (starting with the ``# yaml-language-server: $schema=``
line, so editors validate and autocomplete it), ``voices.schema.json`` beside
it (the schema that line points at, from this voicectl), a ``samples/`` folder
(with a ``.gitkeep``) and a ``.voicectl/`` entry in ``.gitignore`` (the run lock
and the embedded sandbox's state live there). An existing ``voices.yaml`` is
never overwritten without ``--force``; an existing ``.gitignore`` only gains the
missing line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from reconciler import schemas
from reconciler.cli.common import global_options
from reconciler.errors import UserError
from reconciler.fsutil import probe_write, read_regular
from reconciler.manifest import NAME_PATTERN
from reconciler.render.setup import initialised

SCHEMA_FILE = "voices.schema.json"
GITIGNORE_LINE = ".voicectl/"

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# voices.yaml: the voice clones this repository declares.
#   voicectl validate   check this file and the samples, offline
#   voicectl plan       show what would change
#   voicectl apply      make it so; voiceIds are recorded in voices.lock.json
version: 1

# Whose clones these are: voicectl tags every clone it makes with the stack and
# only ever prunes clones of this stack.
stack: {stack}

# managed: delete clones of this stack that are no longer declared below.
prune: managed

defaults:
  language: en

voices: {{}}
# Declare a voice: put 5-15 s of clean speech (wav, mp3, mp4 or webm; at most
# 5 MB) under samples/, then replace the line above with, for example:
#
# voices:
#   narrator:
#     file: samples/narrator.wav
#     displayName: Narrator
#     description: Calm narrator for product videos
#     tags: [narration]
"""


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _check_writable(root: Path, files: list[Path]) -> None:
    """Refuse before anything is written (so a failed init leaves nothing behind): a
    file to write that is a folder, ``samples`` that is a file, a folder that takes no
    files (``fsutil.probe_write``: nothing is created), a symbolic link (init would write
    through it, perhaps outside the folder)."""
    for path in files:
        _refuse_link(path)
        if path.is_dir():
            raise UserError(f"{path}: cannot write: it is a directory")
    samples = root / "samples"
    if samples.exists() and not samples.is_dir():
        raise UserError(f"{samples}: cannot create the samples folder: a file is in the way")
    try:
        probe_write(files[0])
    except OSError as exc:
        raise UserError(f"{files[0]}: cannot write: {exc.strerror or exc}") from exc


def _refuse_link(path: Path) -> None:
    if os.path.islink(path):
        raise UserError(
            f"{path}: is a symbolic link; init does not write through it (remove it, "
            "or run init in the folder it points into)"
        )


def _gitignore_text(path: Path) -> str | None:
    """``path``'s text with ``.voicectl/`` added, or None when an equivalent line is there.

    Read only if it is a regular file: a FIFO would wait for a writer for ever."""
    try:
        text = read_regular(path).decode("utf-8")
    except FileNotFoundError:  # none yet (or a link to nothing: refused before writing)
        text = ""
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from exc
    wanted = {".voicectl", ".voicectl/", "/.voicectl", "/.voicectl/", ".voicectl/*"}
    if any(line.strip() in wanted for line in text.splitlines()):
        return None
    prefix = "" if not text or text.endswith("\n") else "\n"
    return text + prefix + "# voicectl: run lock and sandbox state\n" + GITIGNORE_LINE + "\n"


def _default_stack(root: Path) -> str:
    guess = re.sub(r"[^a-z0-9._-]+", "-", root.resolve().name.lower()).strip("-._")[:63]
    return guess if re.fullmatch(NAME_PATTERN, guess) else "default"


@click.command()
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--stack", default=None, help="The manifest's stack (default: the folder's name).")
@click.option(
    "--schema-url",
    default=None,
    metavar="URL",
    help=f"Point the yaml-language-server line at URL instead of writing {SCHEMA_FILE}.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing voices.yaml.")
@global_options
def init(directory: str, stack: str | None, schema_url: str | None, force: bool) -> None:
    """Scaffold voices.yaml, samples/ and .gitignore entries in DIRECTORY (default: .)."""
    root = Path(directory)
    manifest = root / "voices.yaml"
    _refuse_link(manifest)  # even with --force: a link to nothing is not "no file"
    if manifest.exists() and not force:
        raise UserError(f"{manifest} already exists; pass --force to overwrite it")
    if stack is None:
        stack = _default_stack(root)
    elif not re.fullmatch(NAME_PATTERN, stack):  # whole: a "$" lets a final newline in
        raise UserError(
            f"--stack {stack!r} is not a valid name: use 1-63 characters from a-z 0-9 . _ -, "
            "starting with a letter or digit"
        )
    gitignore = _gitignore_text(root / ".gitignore")  # read problems before any write
    files = [manifest, *([root / SCHEMA_FILE] if schema_url is None else [])]
    _check_writable(root, files + ([root / ".gitignore"] if gitignore is not None else []))
    try:
        (root / "samples").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{root / 'samples'}: cannot create: {exc.strerror or exc}") from exc
    done = []
    keep = root / "samples" / ".gitkeep"
    if not os.path.lexists(keep):  # a link there, even to nothing, is left alone
        _write(keep, "")
    if schema_url is None:
        _write(root / SCHEMA_FILE, schemas.schema_text("voices"))
        done.append(SCHEMA_FILE)
    _write(manifest, TEMPLATE.format(schema=schema_url or SCHEMA_FILE, stack=stack))
    done[:0] = ["voices.yaml", "samples/"]
    if gitignore is not None:
        _write(root / ".gitignore", gitignore)
        done.append(".gitignore (.voicectl/)")
    for line in initialised(root, done):
        click.echo(line)


COMMANDS = [init]
