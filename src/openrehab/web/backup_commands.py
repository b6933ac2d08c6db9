"""``openrehab backup`` and ``openrehab restore`` (store/backup.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from openrehab.web.commands import DatabaseUrlOption, DataDirOption, _ready_engine, _settings, fail


def backup(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (.jsonl.gz).")],
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Back up the whole database (safe while the app is serving)."""
    from openrehab.store.backup import BackupError
    from openrehab.store.backup import backup as make_backup

    engine = _ready_engine(_settings(data_dir, database_url), upgrade=False)
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("wb") as handle:
            counts = make_backup(engine, handle)
        os.replace(partial, out)  # never a half-written file under the real name
    except BackupError as exc:
        partial.unlink(missing_ok=True)
        fail(str(exc), 2)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"Cannot write {out}: {exc.strerror}.", 1)
    typer.echo(f"Wrote {out}: {sum(counts.values())} rows in {len(counts)} tables.")


def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `openrehab backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete everything in the database first.")
    ] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Restore a backup into an empty database (or, with --replace, over one)."""
    from openrehab.store.backup import BackupError
    from openrehab.store.backup import restore as load_backup

    engine = _ready_engine(_settings(data_dir, database_url))
    try:
        with path.open("rb") as handle:
            counts = load_backup(engine, handle, replace=replace)
    except BackupError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"Cannot read {path}: {exc.strerror}.", 2)
    typer.echo(f"Restored {sum(counts.values())} rows in {len(counts)} tables from {path}.")
