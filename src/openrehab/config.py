"""Where OpenRehab keeps its data and which database it talks to.

Resolution order for each setting: explicit argument (CLI flag) > environment variable >
default. The default database is SQLite in a per-user data directory, so a home user needs
no configuration; a clinic points ``OPENREHAB_DATABASE_URL`` at PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "OPENREHAB_DATA_DIR"
ENV_DATABASE_URL = "OPENREHAB_DATABASE_URL"
SQLITE_FILENAME = "openrehab.sqlite3"


class ConfigError(Exception):
    """A setting cannot be used; the message is one plain sentence for the user."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("openrehab", appauthor=False))


def resolve_settings(data_dir: Path | None = None, database_url: str | None = None) -> Settings:
    """Return settings from arguments, environment and defaults, creating the data dir.

    Raises ConfigError when the data directory cannot be created or is not a directory.
    """
    directory = data_dir or _env_path(ENV_DATA_DIR) or default_data_dir()
    directory = directory.expanduser()
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"Data directory {directory} exists but is not a directory.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create data directory {directory}: {exc.strerror}.") from exc
    if not os.access(directory, os.W_OK):
        raise ConfigError(f"Data directory {directory} is not writable.")
    url = (
        database_url
        or os.environ.get(ENV_DATABASE_URL)
        or f"sqlite:///{directory / SQLITE_FILENAME}"
    )
    return Settings(data_dir=directory, database_url=url)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
