"""Spec-writing mistakes caught where they are made, in the author's terms.

A decorator used without its argument, a handler whose parameters do not
match how the framework calls it, a handler that returns a value as if it
built the next state: Python would accept each silently or fail deep in the
checker.  These helpers turn them into SpecErrors that name the spec file
and line, the class and the method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from modelcheck.errors import SpecError


def defined_at(fn: Callable[..., Any]) -> str:
    """``file:line`` of a function's ``def`` (or its name if it has no code)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    return f"{code.co_filename}:{code.co_firstlineno}"


def decorator_argument(value: Any, decorator: str, example: str) -> None:
    """Refuse ``@decorator`` written without its string argument."""
    if isinstance(value, str):
        return
    if callable(value):
        raise SpecError(
            f"{defined_at(value)}: @{decorator} above {value.__name__} needs its argument: "
            f"write @{decorator}({example})")
    raise SpecError(f"@{decorator}({value!r}): expected a string, e.g. @{decorator}({example})")


def check_parameters(owner: type, name: str, fn: Callable[..., Any], role: str,
                     arguments: tuple[str, ...]) -> None:
    """Refuse a method the framework cannot call as ``name(self, *arguments)``."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return
    try:
        signature.bind(None, *arguments)
    except TypeError:
        wanted = ", ".join(("self", *arguments))
        raise SpecError(
            f"{defined_at(fn)}: {owner.__name__}.{name} is {role}, called as "
            f"{name}({wanted}), but it is defined as {name}{signature}") from None


def returns_nothing(result: Any, what: str, fn: Callable[..., Any]) -> None:
    """Refuse a value returned by a handler or step ``fn``, which would be lost."""
    if result is not None:
        raise SpecError(
            f"{defined_at(fn)}: {what} returned {type(result).__name__} {result!r}: "
            "handlers and steps change "
            "the state by assigning fields (self.items = ...), sending and acknowledging; "
            "what they return is not used, so return nothing")
