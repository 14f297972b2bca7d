"""The typed command line every ``scigen-rl`` command shares.

A command is a dataclass of options and a function that runs them. The flags come from the dataclass
through tyro: a field ``out_dir`` is ``--out-dir``, a nested config ``llm: LLMConfig`` gives
``--llm.base-url`` and the rest of its fields, and the docstring under each field is its help. Every
command also takes ``--config FILE`` (YAML or JSON with any of its options, nested configs as
mappings); flags given with it override the file. The options a run resolved to are written to
``<its folder>/<command>.config.yaml``, so ``scigen-rl <command> --config <that file>`` repeats it.
Exit codes: 0 ok, 1 some items failed, 2 bad arguments.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from .records import write_atomic

T = TypeVar("T")

BAD_ARGUMENTS = 2
HYDRA_OVERRIDE = re.compile(r"^(~[A-Za-z_][\w.@/-]*(=.*)?$|\+{0,2}[A-Za-z_][\w.@/-]*=)")
"""``key=value``, ``+key=value``, ``++key=value``, ``~key`` (a URL or a path with ``=`` is not one)."""


class OptionsError(ValueError):
    """Options that cannot be used: an unknown key or a wrong type in a config file, a bad value."""


@dataclasses.dataclass(frozen=True)
class Command(Generic[T]):
    """One ``scigen-rl`` command."""

    name: str
    """The word after ``scigen-rl``."""
    options: type[T]
    """The dataclass of its options; its docstring is the command's description."""
    run: Callable[[T], int]
    """Runs the parsed options; returns the exit code."""
    overrides: str | None = None
    """The options field (a list of str; dotted for a nested one) that takes trailing ``KEY=VALUE``
    arguments (Hydra overrides)."""

    def main(self, argv: Sequence[str]) -> int:
        try:
            options = self.parse(argv)
        except OptionsError as e:
            print(f"scigen-rl {self.name}: {e}", file=sys.stderr)
            return BAD_ARGUMENTS
        except SystemExit as e:  # tyro's own exit after --help (0) or a flag it refused (2), said already
            return e.code if isinstance(e.code, int) else BAD_ARGUMENTS
        return self.run(options)

    def parse(self, argv: Sequence[str]) -> T:
        """The options of these arguments (tyro exits 2 itself on a flag it cannot parse)."""
        import tyro

        config_file, rest = _split_config_flag(list(argv))
        default: Any = tyro.MISSING_NONPROP
        if config_file is not None:
            default = load_options(self.options, config_file)
        prog = f"scigen-rl {self.name}"
        # Hydra overrides come out first: a list flag (--train-files a b) would take them as values.
        overrides = [a for a in rest if HYDRA_OVERRIDE.match(a)] if self.overrides else []
        rest = [a for a in rest if a not in overrides]
        try:
            options = tyro.cli(self.options, prog=prog, args=rest, default=default)
        except (ValueError, TypeError) as e:  # raised by a config's own checks (__post_init__)
            raise OptionsError(str(e)) from None
        return _with_extra(options, self.overrides.split("."), overrides) if self.overrides else options


def _with_extra(options: Any, path: list[str], extra: list[str]) -> Any:
    """``options`` with ``extra`` appended to the list at the dotted field ``path`` (``train.overrides``)."""
    value = getattr(options, path[0])
    new = [*value, *extra] if len(path) == 1 else _with_extra(value, path[1:], extra)
    return dataclasses.replace(options, **{path[0]: new})


def _split_config_flag(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--config FILE`` (or ``--config=FILE``) taken out of the arguments; the last one wins."""
    config, rest, i = None, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            if i + 1 >= len(argv):
                raise OptionsError("--config needs a file")
            config, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return config, rest


def load_options(cls: type[T], path: str | Path) -> T:
    """The options in a YAML or JSON file, as defaults for the flags: every key must be a field of
    ``cls`` (nested configs as mappings) and every value of the field's type. Fields the file leaves
    out keep their defaults; required ones it leaves out must then be given as flags.

    >>> import tempfile, dataclasses
    >>> @dataclasses.dataclass
    ... class Opts:
    ...     out_dir: str
    ...     k: int = 4
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    ...     _ = f.write("k: 8\\n")
    >>> load_options(Opts, f.name).k
    8
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise OptionsError(f"--config {path}: {e}") from None
    return options_from_yaml(cls, text, f"--config {path}")


def options_from_yaml(cls: type[T], text: str, where: str) -> T:
    """The options in a YAML (or JSON) text; ``where`` names it in errors."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise OptionsError(f"{where}: not valid YAML{at}: {getattr(e, 'problem', None) or e}") from None
    return _instance(cls, {} if data is None else data, where)


def _instance(cls: type[T], data: Any, where: str) -> T:
    import tyro
    from typeguard import TypeCheckError, check_type

    if not isinstance(data, dict):
        raise OptionsError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise OptionsError(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        hint = hints[name]
        if name not in data:
            required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if required:
                values[name] = tyro.MISSING
            continue
        value = data[name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            values[name] = _instance(hint, value, f"{where}: {name}")
            continue
        if isinstance(value, list) and _origin(hint) is tuple:
            value = tuple(value)
        try:
            check_type(value, hint)
        except TypeCheckError as e:
            raise OptionsError(f"{where}: {name}: {value!r} {e}") from None
        values[name] = value
    try:
        return cls(**values)
    except (ValueError, TypeError) as e:
        raise OptionsError(f"{where}: {e}") from None


def _origin(hint: Any) -> Any:
    """``tuple`` for ``tuple[float, ...]`` and ``tuple[...] | None``; the origin of other hints."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        origins = {typing.get_origin(a) or a for a in typing.get_args(hint) if a is not type(None)}
        return origins.pop() if len(origins) == 1 else None
    return origin


def base_config(options: Any, cls: type[T]) -> T:
    """The ``cls`` part of options whose dataclass extends ``cls`` (the command's own fields left out)."""
    return cls(**{f.name: getattr(options, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


def save_options(options: Any, folder: str | Path, command: str) -> Path:
    """Write the options a run resolved to as ``folder/<command>.config.yaml`` (a command calls it once
    its input is checked, so a refused run leaves nothing behind); ``--config`` on that file repeats
    the run."""
    path = Path(folder) / f"{command}.config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, options_yaml(options))
    return path


def changed_settings(options: Any, folder: str | Path, command: str, keys: tuple[str, ...]) -> list[str]:
    """The settings among ``keys`` (dotted: ``llm.model``) that differ from those the last run in
    ``folder`` resolved to (its ``<command>.config.yaml``), each as ``key: old -> new``; none when the
    folder holds no such run. A command that reuses what a run left must not mix two settings' results.

    >>> import tempfile, dataclasses
    >>> @dataclasses.dataclass
    ... class Opts:
    ...     model: str = "a"
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_options(Opts(), folder, "x")
    >>> changed_settings(Opts(model="b"), folder, "x", ("model",))
    ["model: 'a' -> 'b'"]
    """
    import yaml

    path = Path(folder) / f"{command}.config.yaml"
    if not path.is_file():
        return []
    try:
        before = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    now = yaml.safe_load(options_yaml(options))
    changed = []
    for key in keys:
        old, new = before, now
        for part in key.split("."):
            old = old.get(part) if isinstance(old, dict) else None
            new = new.get(part) if isinstance(new, dict) else None
        if old != new:
            changed.append(f"{key}: {old!r} -> {new!r}")
    return changed


def options_yaml(options: Any) -> str:
    """The options as the YAML ``--config`` reads back (tuples as lists)."""
    import yaml

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return yaml.safe_dump(plain(dataclasses.asdict(options)), sort_keys=False, allow_unicode=True)
