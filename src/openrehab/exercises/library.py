"""Loading and querying the exercise library.

The library is a folder of YAML files (the packaged one is ``exercises/data``), each with
a top-level ``exercises:`` list. Every entry is validated by :class:`Exercise`; a broken
entry raises :class:`ExerciseLibraryError` whose message names the file, the field and the
reason, e.g. ``elbow.yaml: exercises[2] 'elbow_extension': field 'sensing.signal': unknown
signal 'elbo'``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from openrehab.exercises.schema import REGIONS, Exercise

DATA_DIR = Path(__file__).parent / "data"


class ExerciseLibraryError(ValueError):
    """A library file is unreadable or an entry is invalid; the message names file and field."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        super().__init__(f"{file}: field '{field}': {reason}")


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(entry)"


def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    # Pydantic prefixes custom messages with "Value error, "; the reason reads better bare.
    reason = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "literal_error":
        reason = f"{reason} (got {error.get('input')!r})"
    if error["type"] == "extra_forbidden":
        reason = "unknown field (check the spelling against docs/exercises.md)"
    return _location(error["loc"]), reason


@dataclass(frozen=True)
class Library:
    """An immutable, validated set of exercises."""

    exercises: tuple[Exercise, ...]
    sources: dict[str, str]  # exercise id -> file name it came from
    # id -> exercise: looked up once per stored repetition in the care checks.
    _by_id: dict[str, Exercise] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.exercises})

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def __contains__(self, exercise_id: object) -> bool:
        return isinstance(exercise_id, str) and exercise_id in self._by_id

    def get(self, exercise_id: str) -> Exercise:
        """The exercise with this id; ``KeyError`` with a clear message otherwise."""
        exercise = self._by_id.get(exercise_id) if isinstance(exercise_id, str) else None
        if exercise is None:
            raise KeyError(f"unknown exercise {exercise_id!r}")
        return exercise

    def by_region(self, region: str) -> tuple[Exercise, ...]:
        """Exercises that move ``region``; ``"functional"`` gives the functional tasks."""
        if region == "functional":
            return tuple(e for e in self.exercises if e.kind == "functional")
        return tuple(e for e in self.exercises if region in e.regions)

    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.exercises)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ExerciseLibraryError(path.name, where, f"invalid YAML: {exc}") from None
    except OSError as exc:
        raise ExerciseLibraryError(path.name, "(file)", f"cannot read: {exc.strerror}") from None


def _validate_file(path: Path) -> list[Exercise]:
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("exercises"), list):
        raise ExerciseLibraryError(path.name, "exercises", "expected a top-level list 'exercises:'")
    extra = set(document) - {"exercises", "region"}
    if extra:
        raise ExerciseLibraryError(path.name, sorted(extra)[0], "unknown top-level key")
    out: list[Exercise] = []
    for index, entry in enumerate(document["exercises"]):
        label = f"exercises[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label += f" '{entry['id']}'"
        try:
            out.append(Exercise.model_validate(entry))
        except ValidationError as exc:
            field, reason = _first_error(exc)
            raise ExerciseLibraryError(f"{path.name}: {label}", field, reason) from None
    return out


def load_library_files(paths: Sequence[Path]) -> Library:
    """Validate the given YAML files as one library (ids unique, prerequisites resolvable)."""
    exercises: list[Exercise] = []
    sources: dict[str, str] = {}
    for path in paths:
        for exercise in _validate_file(path):
            if exercise.id in sources:
                raise ExerciseLibraryError(
                    f"{path.name}: '{exercise.id}'",
                    "id",
                    f"duplicate id (first defined in {sources[exercise.id]})",
                )
            sources[exercise.id] = path.name
            exercises.append(exercise)
    by_id = {e.id: e for e in exercises}
    for exercise in exercises:
        for index, prerequisite in enumerate(exercise.prerequisites):
            field = f"prerequisites[{index}]"
            target = by_id.get(prerequisite.exercise)
            if target is None:
                raise ExerciseLibraryError(
                    f"{sources[exercise.id]}: '{exercise.id}'",
                    f"{field}.exercise",
                    f"unknown exercise {prerequisite.exercise!r}",
                )
            if prerequisite.level > target.max_level:
                raise ExerciseLibraryError(
                    f"{sources[exercise.id]}: '{exercise.id}'",
                    f"{field}.level",
                    f"{prerequisite.exercise!r} has only {target.max_level} levels",
                )
    _check_no_cycles(exercises, sources)
    order = {region: i for i, region in enumerate(REGIONS)}
    exercises.sort(key=lambda e: (order[e.primary_region], e.kind != "isolated", e.id))
    return Library(tuple(exercises), sources)


def _check_no_cycles(exercises: list[Exercise], sources: dict[str, str]) -> None:
    graph = {e.id: [p.exercise for p in e.prerequisites] for e in exercises}
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise ExerciseLibraryError(
                    f"{sources[node]}: '{node}'",
                    "prerequisites",
                    f"cycle through {nxt!r}: it could never be unlocked",
                )
            if nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)


def load_library(path: Path | str | None = None) -> Library:
    """Load a library folder (or one YAML file); ``None`` loads the packaged library once."""
    if path is None:
        return _default_library()
    target = Path(path)
    if target.is_dir():
        files = sorted(target.glob("*.yaml"))
        if not files:
            raise ExerciseLibraryError(str(target), "(folder)", "no *.yaml files")
        return load_library_files(files)
    if not target.exists():
        raise ExerciseLibraryError(str(target), "(file)", "no such file or folder")
    return load_library_files([target])


@lru_cache(maxsize=1)
def _default_library() -> Library:
    return load_library_files(sorted(DATA_DIR.glob("*.yaml")))
