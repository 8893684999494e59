"""Finding a spec, and building its model from ``-p NAME=VALUE`` parameters.

A spec is a Python file that defines one ``Model`` subclass.  Its parameters
are the keyword arguments of that class's ``__init__``; the annotation says
how to parse a value from the command line (int, bool, str or a Literal of
choices) and the default is used when ``-p`` does not name it.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import specs as shipped_specs
from modelcheck.errors import SpecError
from modelcheck.model import Model

SHIPPED_DIR = Path(shipped_specs.__file__).resolve().parent
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: Any  # int, bool, str, or a tuple of allowed strings
    default: Any

    def describe(self) -> str:
        if isinstance(self.kind, tuple):
            return f"{self.name}={self.default} ({'|'.join(self.kind)})"
        return f"{self.name}={self.default} ({self.kind.__name__})"

    def parse(self, text: str) -> Any:
        if isinstance(self.kind, tuple):
            if text not in self.kind:
                raise SpecError(
                    f"parameter {self.name}: {text!r} is not one of {', '.join(self.kind)}"
                )
            return text
        if self.kind is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise SpecError(f"parameter {self.name}: {text!r} is not a boolean (true/false)")
        if self.kind is int:
            try:
                return int(text)
            except ValueError:
                raise SpecError(f"parameter {self.name}: {text!r} is not an integer") from None
        return text


@dataclass(frozen=True)
class Spec:
    """A loaded spec file: its model class and declared parameters."""

    name: str
    path: Path
    model_class: type[Model]
    parameters: dict[str, Parameter]

    @property
    def summary(self) -> str:
        doc = self.model_class.summary or (inspect.getdoc(self.model_class) or "")
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def resolve(self, assignments: list[str]) -> dict[str, Any]:
        """Defaults overridden by ``NAME=VALUE`` assignments, parsed and checked."""
        values = {name: p.default for name, p in self.parameters.items()}
        given: dict[str, str] = {}
        for assignment in assignments:
            name, eq, text = assignment.partition("=")
            name = name.strip()
            if not eq or not name:
                raise SpecError(f"parameter {assignment!r}: expected NAME=VALUE")
            if name not in self.parameters:
                known = ", ".join(self.parameters) or "none"
                raise SpecError(
                    f"{self.name} has no parameter {name!r} (its parameters: {known})"
                )
            if name in given and given[name] != assignment:
                raise SpecError(f"parameter {name} given twice ({given[name]!r} and "
                                f"{assignment!r}): give it once")
            given[name] = assignment
            values[name] = self.parameters[name].parse(text.strip())
        return values

    def build(self, values: dict[str, Any]) -> Model:
        try:
            return self.model_class(**values)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{self.name}: bad parameters {values}: {exc}") from exc


def shipped() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.py") if not p.stem.startswith("_"))


def load(spec: str) -> Spec:
    """Load a spec by file path or by the name of a shipped spec."""
    path = Path(spec)
    # A directory of the same name in the working directory does not hide
    # a shipped spec: only a file does.
    if not path.suffix and not path.is_file():
        candidate = SHIPPED_DIR / f"{spec}.py"
        if not candidate.exists():
            raise SpecError(
                f"no spec {spec!r}: not a file, nor a shipped spec "
                f"(shipped: {', '.join(shipped())})"
            )
        path = candidate
    if not path.is_file():
        raise SpecError(f"spec file {spec} does not exist")
    module = _import(path)
    model_class = _model_class(module, path)
    return Spec(path.stem, path, model_class, _parameters(model_class, path))


#: Imported spec modules by (path, source): a spec loaded again is the same
#: module, so states from an earlier load (interned messages hold them) have
#: the classes pickling finds under the module's name.
_imported: dict[tuple[Path, bytes], Any] = {}


def _import(path: Path) -> Any:
    module_name = f"modelcheck_spec_{path.stem}"
    key = (path.resolve(), path.read_bytes())
    module = _imported.get(key)
    if module is not None and sys.modules.get(module_name) is module:
        return module
    loader = importlib.util.spec_from_file_location(module_name, path)
    if loader is None or loader.loader is None:
        raise SpecError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(loader)
    # Registered so that dataclasses, pickling and inspect can find it.
    sys.modules[module_name] = module
    try:
        loader.loader.exec_module(module)
    except SyntaxError as exc:
        raise SpecError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
    except SpecError as exc:  # a framework check at class creation (actors.authoring)
        message = str(exc)
        raise SpecError(message if str(path) in message else f"{path}: {message}") from exc
    except Exception as exc:
        raise SpecError(f"{path}: importing the spec raised {type(exc).__name__}: {exc}") from exc
    _imported[key] = module
    return module


def _model_class(module: Any, path: Path) -> type[Model]:
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Model)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]
    if not found:
        raise SpecError(f"{path} defines no model: expected a subclass of "
                        "modelcheck.actors.Protocol (an actor spec) or of modelcheck.Model")
    if len(found) > 1:
        names = ", ".join(c.__name__ for c in found)
        raise SpecError(f"{path} defines several models ({names}); keep one per file")
    return found[0]


def _parameters(model_class: type[Model], path: Path) -> dict[str, Parameter]:
    hints = typing.get_type_hints(model_class.__init__)
    params: dict[str, Parameter] = {}
    for name, p in inspect.signature(model_class.__init__).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty:
            raise SpecError(f"{path}: parameter {name} of {model_class.__name__} needs a default")
        params[name] = Parameter(name, _kind(hints.get(name, type(p.default)), name, path), p.default)
    return params


def _kind(hint: Any, name: str, path: Path) -> Any:
    if typing.get_origin(hint) is typing.Literal:
        return tuple(str(choice) for choice in typing.get_args(hint))
    if hint in (int, bool, str):
        return hint
    raise SpecError(
        f"{path}: parameter {name} is annotated {hint!r}; use int, bool, str or a Literal"
    )
