"""Command-line flags generated from a settings dataclass, each with the field's own type.

``--batch-size 8`` becomes an ``int``, ``--lr 0.03`` a ``float``, ``--readout gaussian`` a ``str``; ``bool``
fields get ``--flag/--no-flag``; ``X | None`` fields default to ``None``. A field of a type with no flag rule
raises ``TypeError`` when the parser is built (never a silent float). Used by
``python -m course_utils sensorium train`` (chapter 09_sensorium_encoding_and_submission names the command).
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, fields
from typing import Any

__all__ = ["add_dataclass_flags", "dataclass_from_flags"]

_SIMPLE = (int, float, str)


def _flag_type(annotation: Any, where: str) -> tuple[type, bool]:
    """The field's base type and whether it accepts None."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and rest[0] in (*_SIMPLE, bool):
            return rest[0], True
    if annotation in (*_SIMPLE, bool):
        return annotation, False
    raise TypeError(f"{where}: no command-line flag for type {annotation!r}; skip the field or give it int, float, str or bool")


def add_dataclass_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    skip: Iterable[str] = (),
    choices: Mapping[str, Iterable[Any]] | None = None,
) -> None:
    """Add one ``--field-name`` flag per field of ``cls`` (a dataclass), typed and defaulted as the field is.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class C:
    ...     epochs: int = 3
    ...     name: str = "run"
    ...     lr: float | None = None
    ...     fast: bool = False
    >>> p = argparse.ArgumentParser(); add_dataclass_flags(p, C)
    >>> dataclass_from_flags(C, p.parse_args(["--name", "1e3", "--lr", "0.1", "--fast"]))
    C(epochs=3, name='1e3', lr=0.1, fast=True)
    """
    hints = typing.get_type_hints(cls)
    choices = dict(choices or {})
    for f in fields(cls):
        if f.name in skip:
            continue
        kind, optional = _flag_type(hints[f.name], f"{cls.__name__}.{f.name}")
        default = None if f.default is MISSING and optional else f.default
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, dest=f.name)
            continue
        parser.add_argument(
            flag,
            type=kind,
            default=default,
            dest=f.name,
            choices=list(choices[f.name]) if f.name in choices else None,
            metavar=kind.__name__.upper() if f.name not in choices else None,
            help=f"default: {default}",
        )


def dataclass_from_flags(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """Build ``cls`` from the parsed flags (fields that have no flag keep their default, or take ``overrides``)."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **overrides})
