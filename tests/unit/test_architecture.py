"""The rules of design.md, kept true by reading the code (AST), not by trusting it.

* The plan does no I/O: ``reconciler.plan`` and everything it imports (inside the
  package, module level) imports no HTTP, file, process or event-loop module.
* Only the lockfile's owner (``reconciler/lockfile/``: ``store.Lockfile`` and its
  journal) changes lockfile documents: no other module assigns to, deletes from
  or calls a mutating method on a lockfile document's sections.
* Only the command and rendering layers print: no ``print``, ``click.echo``,
  ``click.prompt`` or ``sys.stdout``/``sys.stderr`` write outside ``reconciler/cli/``
  and ``reconciler/render/`` (the sandbox is a separate program with its own server).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"

# The lockfile's one owner: reconciler.lockfile.store (Lockfile) journalling through
# reconciler.lockfile.journal, beside the document model they keep.
LOCKFILE_OWNER = "reconciler/lockfile/"
PRINTING_LAYERS = ("reconciler/cli/", "reconciler/render/")
OWN_PROGRAMS = ("reconciler/sandbox/",)  # the emulator: its own process, its own output

IO_MODULES = {
    "httpx",
    "socket",
    "ssl",
    "urllib.request",
    "http.client",
    "asyncio",
    "subprocess",
    "os",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "filelock",
    "reconciler.api.client",
    "reconciler.api.upload",
    "reconciler.api.limiter",
    "reconciler.api.retry",
    "reconciler.lockfile.store",
    "reconciler.lockfile.journal",
    "reconciler.lockfile.runlock",
    "reconciler.fsutil",
}
LOCK_SECTIONS = {"voices", "pending", "retired", "awaiting"}
MUTATORS = {"pop", "popitem", "clear", "update", "setdefault", "__setitem__", "__delitem__"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(module: str, path: Path) -> set[str]:
    """What a module imports when it is imported (not under TYPE_CHECKING, not lazily
    inside a function)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if _type_checking(node):
                continue
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - node.level + 1]
                        + ([node.module] if node.module else [])
                    )
                names.add(base)
                names.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree(path).body)
    return names


def closure(start: str) -> dict[str, str]:
    """Every module ``start`` imports, directly or not, -> the module that imports it.

    A package's ``__init__`` counts when the package itself is imported from (``from
    reconciler.lockfile import X``), not when a submodule is named
    (``from reconciler.lockfile.model import X``): the plan names pure modules."""
    known = modules()
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop()
        for name in imports_of(current, known[current]):
            if name in seen:
                continue
            seen[name] = current
            if name in known:
                todo.append(name)
    return seen


def _in(rel: str, prefixes: tuple[str, ...]) -> bool:
    return rel.startswith(prefixes)


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_the_plan_does_no_io() -> None:
    reached = closure("reconciler.plan")
    bad = {
        name: via
        for name, via in reached.items()
        if name in IO_MODULES or name.split(".")[0] in {"httpx", "filelock"}
    }
    assert not bad, "the plan reaches I/O modules: " + ", ".join(
        f"{name} (imported by {via})" for name, via in sorted(bad.items())
    )
    for module in [m for m in reached if m.startswith("reconciler.")] + ["reconciler.plan"]:
        path = modules().get(module)
        if path is None:
            continue
        calls = [
            node.lineno
            for node in ast.walk(tree(path))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("open", "print", "input")
        ]
        assert not calls, f"{_rel(path)}:{calls[0]}: the plan's code does I/O"


def _chain(node: ast.AST) -> list[str]:
    """``self.lock.doc.voices`` -> ["self", "lock", "doc", "voices"] (subscripts skipped)."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _lock_section(node: ast.AST) -> bool:
    """Whether ``node`` is (an item of) a lockfile document's section: a chain through a
    ``doc``/``lock`` name that ends in voices, pending, retired or awaiting."""
    chain = _chain(node)
    if not chain or chain[-1] not in LOCK_SECTIONS:
        return False
    return any(part in ("doc", "lock") or part.endswith(("_doc", "_lock")) for part in chain[:-1])


def _changes_document(target: ast.AST) -> bool:
    """An assignment or ``del`` target inside a lockfile document."""
    if isinstance(target, ast.Subscript):
        return _lock_section(target.value)
    if not isinstance(target, ast.Attribute):
        return False
    if _lock_section(target):
        return True
    return target.attr in ("serial", "stack", "lineage") and _chain(target.value)[-1:] == ["doc"]


def _mutations(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(tree(path)):
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        lines += [node.lineno for target in targets if _changes_document(target)]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and _lock_section(node.func.value)
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_lockfile_owner_changes_lockfile_documents() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = _rel(path)
        if rel.startswith(LOCKFILE_OWNER) or _in(rel, OWN_PROGRAMS):
            continue
        found += [f"{rel}:{line}" for line in _mutations(path)]
    assert not found, "lockfile documents changed outside reconciler/lockfile/: " + ", ".join(found)


def test_the_rule_sees_a_mutation() -> None:
    """The detector itself: these are the shapes it must catch."""
    sample = ast.parse(
        "lock.doc.voices['a'] = e\ndel doc.retired[v]\nself.lock.doc.pending.pop(v)\n"
        "doc.serial = 3\nx = lock.doc.voices['a']\nvoices['a'] = e\n"
    )
    path = PACKAGE / "__init__.py"
    tree.cache_clear()
    original = tree
    try:
        globals()["tree"] = lambda _path: sample
        assert sorted(_mutations(path)) == [1, 2, 3, 4]
    finally:
        globals()["tree"] = original


PRINTERS = {("click", "echo"), ("click", "secho"), ("click", "prompt"), ("click", "confirm")}


def _prints(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(tree(path)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("print", "input"):
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute):
            chain = _chain(func)
            if tuple(chain[-2:]) in PRINTERS or (
                len(chain) >= 3
                and chain[-3:-1] in (["sys", "stdout"], ["sys", "stderr"])
                and chain[-1] in ("write", "writelines")
            ):
                lines.append(node.lineno)
    return lines


def test_only_the_cli_and_render_layers_print() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = _rel(path)
        if _in(rel, PRINTING_LAYERS) or _in(rel, OWN_PROGRAMS):
            continue
        found += [f"{rel}:{line}" for line in _prints(path)]
    assert not found, "printing outside cli/ and render/: " + ", ".join(found)


def test_engine_modules_do_not_import_the_cli_or_the_renderer() -> None:
    known = modules()
    for module, path in known.items():
        if not module.startswith("reconciler.engine"):
            continue
        names = imports_of(module, path)
        bad = sorted(n for n in names if n.startswith(("reconciler.cli", "reconciler.render")))
        assert not bad, f"{_rel(path)} imports {bad}"


def test_the_rule_sees_a_print() -> None:
    sample = ast.parse(
        "print(1)\nclick.echo('x')\nsys.stdout.write('x')\nclick.prompt('?')\n"
        "logger.info('x')\necho('x')\n"
    )
    original = tree
    try:
        globals()["tree"] = lambda _path: sample
        assert sorted(_prints(PACKAGE / "__init__.py")) == [1, 2, 3, 4]
    finally:
        globals()["tree"] = original


# -- the command layer renders nothing itself ------------------------------------------
# Output text is built in reconciler/render/ (plain strings and lines out); a command
# module only writes what a renderer returned. What it may echo: a value (a name, an
# attribute, a call of a renderer), a constant one-line string, or a one-word prefix
# on one value (``f"Error: {line}"``, ``f"Warning: {clean(w)}"``) for messages built
# elsewhere. It never serialises JSON and never joins lines.
CLI_LAYER = "reconciler/cli/"
ECHOES = {"echo", "secho"}


def _prefix_on_one_value(node: ast.JoinedStr) -> bool:
    parts = node.values
    return (
        len(parts) == 2
        and isinstance(parts[0], ast.Constant)
        and isinstance(parts[0].value, str)
        and parts[0].value.endswith(": ")
        and " " not in parts[0].value[:-2]
        and isinstance(parts[1], ast.FormattedValue)
    )


def _builds_text(node: ast.AST) -> bool:
    """Whether an echoed expression builds text in place."""
    if isinstance(node, ast.JoinedStr):
        return not _prefix_on_one_value(node)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and "\n" in node.value
    if isinstance(node, ast.BinOp):  # "a" + b, "%s" % x
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("format", "join")
    if isinstance(node, ast.IfExp):
        return _builds_text(node.body) or _builds_text(node.orelse)
    return False


def _formats_output(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(tree(path)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        chain = _chain(node.func)
        if chain[-2:] in (["click", "echo"], ["click", "secho"]) and node.args:
            if _builds_text(node.args[0]):
                lines.append(node.lineno)
        elif chain[-2:] == ["json", "dumps"] or (
            node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and node.func.value.value == "\n"
        ):
            lines.append(node.lineno)
    return lines


def test_command_modules_build_no_output_text() -> None:
    found = []
    for path in sorted((PACKAGE / "cli").rglob("*.py")):
        found += [f"{_rel(path)}:{line}" for line in _formats_output(path)]
    assert not found, (
        "output text built in cli/ (build it in reconciler/render/ and echo the result): "
        + ", ".join(found)
    )


def test_the_rule_sees_text_built_in_a_command() -> None:
    sample = ast.parse(
        "click.echo(f'{n} clones')\nclick.echo('a' + b)\nclick.echo(json.dumps(doc))\n"
        "x = '\\n'.join(lines)\nclick.echo(', '.join(names))\nclick.echo('a\\nb')\n"
        "click.echo(f'Error: {line}')\nclick.echo(render.plan_text(p))\nclick.echo('Done.')\n"
        "click.echo(line, err=True)\nclick.echo('')\n"
    )
    original = tree
    try:
        globals()["tree"] = lambda _path: sample
        assert sorted(_formats_output(PACKAGE / "__init__.py")) == [1, 2, 3, 4, 5, 6]
    finally:
        globals()["tree"] = original
