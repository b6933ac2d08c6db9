"""Commands for the server and its data: ``serve``, ``db`` and ``user``."""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from openrehab.config import (
    ENV_DATA_DIR,
    ENV_DATABASE_URL,
    ConfigError,
    Settings,
    resolve_settings,
)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder for the SQLite database and files "
        "(default: per-user data folder; env OPENREHAB_DATA_DIR).",
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db "
        "(env OPENREHAB_DATABASE_URL).",
    ),
]

db_app = typer.Typer(
    help="Database schema: upgrade, downgrade, show the revision.", no_args_is_help=True
)
user_app = typer.Typer(
    help="Manage user accounts (patients, caregivers, therapists, admins).", no_args_is_help=True
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one plain sentence to stderr and exit non-zero (no traceback)."""
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _settings(data_dir: Path | None, database_url: str | None) -> Settings:
    from openrehab.clock import TimezoneError, local_zone

    try:
        local_zone()  # a mistyped OPENREHAB_TIMEZONE is reported now, not on the first page
        return resolve_settings(data_dir, database_url)
    except (ConfigError, TimezoneError) as exc:
        fail(str(exc), 2)


def _ready_engine(settings: Settings, *, upgrade: bool = True):  # type: ignore[no-untyped-def]
    from openrehab.store import migrate
    from openrehab.store.db import StoreError, check_connection, make_engine

    try:
        engine = make_engine(settings.database_url)
        check_connection(engine)
        if upgrade:
            migrate.upgrade(engine)
    except StoreError as exc:
        fail(str(exc))
    except Exception as exc:  # a migration failing on a damaged schema
        fail(f"Cannot prepare the database: {str(exc).splitlines()[0]}")
    return engine


def _check_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        fail(f"Cannot use host {host!r}: it does not resolve to an address.", 2)
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"Port {port} on {host} is already in use; choose another with --port.")
            fail(f"Cannot listen on {host}:{port}: {exc.strerror}.")


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the whole network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    demo: Annotated[
        bool,
        typer.Option("--demo/--no-demo", help="Seed demo accounts when the database is empty."),
    ] = True,
    demo_patients: Annotated[
        int,
        typer.Option(
            min=1,
            max=7,
            help="Patients of the first-run demo (more than 1: a caseload with weeks of "
            "history, as `openrehab demo-data`; takes some seconds).",
        ),
    ] = 1,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (env OPENREHAB_WORKERS). One serves a home; a clinic's "
            "server uses one per core (bench/results/api.md).",
            envvar="OPENREHAB_WORKERS",
        ),
    ] = 1,
) -> None:
    """Run the web app (migrates the database first; seeds demo data on first run)."""
    from openrehab.services.demo import database_is_empty, seed_demo
    from openrehab.store.db import make_session_factory, session_scope
    from openrehab.web.app import create_app

    started = time.perf_counter()
    settings = _settings(data_dir, database_url)
    _check_port_free(host, port)
    sockets = _worker_sockets(host, port, workers)
    engine = _ready_engine(settings)
    logins = []
    if demo:
        with session_scope(make_session_factory(engine)) as db:
            if database_is_empty(db) and demo_patients > 1:
                from openrehab.services.demo_data import generate

                typer.echo(f"Making demo data for {demo_patients} patients ...")
                logins = generate(db, patients=demo_patients).logins
            elif database_is_empty(db):
                logins = seed_demo(db)
    app = create_app(settings, engine=engine, upgrade=False)
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host  # an IPv6 address
    typer.echo(
        f"OpenRehab is ready at http://{shown_host}:{port}/  (database: {_describe(settings)})"
    )
    if logins:
        typer.echo("Demo accounts created (change or remove them before real use):")
        for login in logins:
            typer.echo(
                f"  {login.role.value:<10} username {login.username:<10} password {login.password}"
            )
    typer.echo(f"Prepared in {time.perf_counter() - started:.2f} s. Press Ctrl+C to stop.")
    if workers > 1:
        # Each worker process builds the same app from these settings (worker_app).
        engine.dispose()
        os.environ[ENV_DATA_DIR] = str(settings.data_dir)
        os.environ[ENV_DATABASE_URL] = settings.database_url
        _run("openrehab.web.commands:worker_app", host, port, workers=workers, sockets=sockets)
    else:
        _run(app, host, port)


def worker_app() -> object:
    """The app of one ``serve --workers N`` process (settings from the parent's environment;
    the parent has migrated and seeded the database)."""
    from openrehab.web.app import create_app

    return create_app(resolve_settings(), upgrade=False)


def _worker_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """One SO_REUSEPORT socket per worker (web/workers.py explains why), bound now that the
    port is known to be free; none for one worker or where the kernel cannot share a port."""
    from openrehab.web.workers import listening_socket, reuse_port_supported

    if workers < 2 or not reuse_port_supported():
        return []
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(listening_socket(host, port))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        fail(f"Cannot listen on {host}:{port}: {exc.strerror}.")
    return sockets


def _run(
    app: object, host: str, port: int, *, workers: int = 1, sockets: Sequence[socket.socket] = ()
) -> None:
    import uvicorn

    from openrehab.web.workers import Supervisor

    options: dict[str, object] = {"log_level": "warning", "proxy_headers": True}
    if sockets and isinstance(app, str):
        if not Supervisor(app, list(sockets), options, log=typer.echo).run():
            fail("The server stopped: its worker processes could not serve (see above).")
        return
    if workers > 1:
        options.update(factory=True, workers=workers)
    try:
        uvicorn.run(app, host=host, port=port, **options)  # type: ignore[arg-type]
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        fail(f"The server stopped: could not listen on {host}:{port}.") if exc.code else None


def demo(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Show a live exercise session without a camera: the app on a throw-away database with
    the demo accounts, and a simulated patient whose movements are replayed (localhost only;
    nothing is kept)."""
    import tempfile

    from openrehab.services.demo import seed_demo
    from openrehab.store.db import make_session_factory, session_scope
    from openrehab.web.app import create_app

    host = "127.0.0.1"
    _check_port_free(host, port)
    with tempfile.TemporaryDirectory(prefix="openrehab-demo-") as folder:
        settings = _settings(Path(folder), None)
        engine = _ready_engine(settings)
        with session_scope(make_session_factory(engine)) as db:
            seed_demo(db)
        app = create_app(settings, engine=engine, upgrade=False)
        app.state.demo_login = "patient"  # enables /demo (one click to the simulated session)
        typer.echo(f"OpenRehab demo: open http://localhost:{port}/demo  (Ctrl+C to stop)")
        typer.echo("It logs you in as the demo patient and replays a simulated person exercising.")
        _run(app, host, port)


def _describe(settings: Settings) -> str:
    if settings.is_sqlite:
        return settings.database_url.removeprefix("sqlite:///")
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def _migrate(
    direction: str, revision: str, data_dir: Path | None, database_url: str | None
) -> None:
    from openrehab.store import migrate

    engine = _ready_engine(_settings(data_dir, database_url), upgrade=False)
    step = migrate.upgrade if direction == "upgrade" else migrate.downgrade
    try:
        step(engine, revision)
    except Exception as exc:
        fail(f"{direction.capitalize()} to {revision} failed: {str(exc).splitlines()[0]}")
    typer.echo(f"Database at revision {migrate.current_revision(engine) or 'base (empty)'}.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Apply migrations up to REVISION (default: newest)."""
    _migrate("upgrade", revision, data_dir, database_url)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' removes all tables).")],
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revert migrations down to REVISION (destroys data added since; back it up first)."""
    _migrate("downgrade", revision, data_dir, database_url)


@db_app.command("current")
def db_current(data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    from openrehab.store import migrate

    engine = _ready_engine(_settings(data_dir, database_url), upgrade=False)
    typer.echo(f"current: {migrate.current_revision(engine) or 'base (empty)'}")
    typer.echo(f"newest:  {migrate.head_revision()}")


@user_app.command("create")
def user_create(
    username: Annotated[
        str, typer.Argument(help="Login name (lower-case letters, digits, . _ -).")
    ],
    role: Annotated[str, typer.Option(help="patient, caregiver, therapist or admin.")] = "patient",
    display_name: Annotated[str | None, typer.Option(help="Name shown in the app.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (asked for when omitted; env OPENREHAB_PASSWORD).",
            envvar="OPENREHAB_PASSWORD",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an account."""
    from openrehab.accounts.passwords import WeakPasswordError
    from openrehab.accounts.service import AccountError, create_user
    from openrehab.store.db import make_session_factory, session_scope

    engine = _ready_engine(_settings(data_dir, database_url))
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(make_session_factory(engine)) as db:
            user = create_user(db, username, password, role, display_name)
            typer.echo(f"Created {user.role.value} {user.username!r} (id {user.id}).")
    except (AccountError, WeakPasswordError) as exc:
        fail(str(exc), 2)


@user_app.command("link")
def user_link(
    patient: Annotated[str, typer.Argument(help="The patient's username.")],
    carer: Annotated[str, typer.Argument(help="The caregiver's or therapist's username.")],
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Let a caregiver or therapist see a patient's records."""
    from sqlalchemy import select

    from openrehab.store.db import make_session_factory, session_scope
    from openrehab.store.models import CareLink, LinkKind, Role, User

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        patient_user = db.scalar(select(User).where(User.username == patient.lower()))
        carer_user = db.scalar(select(User).where(User.username == carer.lower()))
        if patient_user is None or patient_user.role is not Role.patient:
            fail(f"No patient named {patient!r}.", 2)
        if carer_user is None or carer_user.role not in (Role.caregiver, Role.therapist):
            fail(f"No caregiver or therapist named {carer!r}.", 2)
        exists = db.scalar(
            select(CareLink).where(
                CareLink.patient_id == patient_user.id, CareLink.carer_id == carer_user.id
            )
        )
        if exists is None:
            db.add(
                CareLink(
                    patient_id=patient_user.id,
                    carer_id=carer_user.id,
                    kind=LinkKind(carer_user.role.value),
                )
            )
        typer.echo(
            f"{carer_user.username} ({carer_user.role.value}) can now see {patient_user.username}."
        )


@user_app.command("list")
def user_list(data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """List accounts."""
    from sqlalchemy import select

    from openrehab.store.db import make_session_factory, session_scope
    from openrehab.store.models import User

    engine = _ready_engine(_settings(data_dir, database_url))
    with session_scope(make_session_factory(engine)) as db:
        for user in db.scalars(select(User).order_by(User.id)):
            state = "" if user.active else "  (inactive)"
            name = f"{user.username:<24} {user.display_name}"
            typer.echo(f"{user.id:>5}  {user.role.value:<10} {name}{state}")


def bench_api_command(
    scenarios: Annotated[
        str, typer.Option(help="Comma-separated: get (the GET mix), progress, reps.")
    ] = "get,progress,reps",
    seconds: Annotated[
        float, typer.Option(min=0.5, max=300.0, help="Measured time per scenario.")
    ] = 10.0,
    clients: Annotated[int, typer.Option(min=1, max=500, help="Concurrent clients.")] = 20,
    warmup: Annotated[float, typer.Option(min=0.0, max=60.0, help="Unmeasured lead-in.")] = 2.0,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="PostgreSQL server to use: the benchmark makes a throw-away database there "
            "(and drops it). Default: SQLite in a temporary folder.",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
    http: Annotated[str, typer.Option(help="uvicorn HTTP parser: auto, h11, httptools.")] = "auto",
    loop: Annotated[str, typer.Option(help="uvicorn event loop: auto, asyncio, uvloop.")] = "auto",
    url: Annotated[
        str | None, typer.Option(help="A running server on this machine (loopback only).")
    ] = None,
    profile: Annotated[
        bool, typer.Option(help="Where the server's time goes (py-spy, SQL and hops counts).")
    ] = False,
    repeat: Annotated[
        int,
        typer.Option(
            min=1,
            max=10,
            help="Measure each scenario N times; the run least disturbed by other work "
            "on the machine is reported.",
        ),
    ] = 1,
    client_check: Annotated[
        bool, typer.Option(help="First measure the load generator alone (2 s).")
    ] = True,
    wait_quiet: Annotated[
        float,
        typer.Option(
            min=0.0, max=600.0, help="Wait up to this many s for other work to calm down."
        ),
    ] = 0.0,
    label: Annotated[str, typer.Option(help="Tag for these rows of the results.")] = "",
    append: Annotated[bool, typer.Option(help="Keep earlier rows in the results.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Results folder (default bench/results).")
    ] = None,
) -> None:
    """Load-test the JSON API on this machine (writes bench/results/api.md)."""
    from openrehab.motion.commands import find_bench_dir, load_bench

    bench = find_bench_dir()
    if bench is None or not (bench / "api.py").exists():
        fail("bench/ not found: run `openrehab bench api` from a source checkout")
    mod = load_bench(bench / "api.py")
    try:
        mod.run(
            mod.parse_scenarios(scenarios),
            seconds=seconds,
            clients=clients,
            warmup=warmup,
            database_url=database_url,
            workers=workers,
            http=http,
            loop=loop,
            url=url,
            profile=profile,
            repeat=repeat,
            client_check=client_check,
            wait_quiet=wait_quiet,
            label=label,
            append=append,
            out_dir=out or bench / "results",
            echo=typer.echo,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        fail(str(exc), 2 if isinstance(exc, ValueError) else 1)


def bench_probes_command(
    url: Annotated[
        str | None,
        typer.Option(help="A running server on this machine (default: start a fresh one)."),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database of the fresh server (default: SQLite).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table to this file.")] = None,
) -> None:
    """Replay the attacks of the hardening issue against a server (loopback only): exit 1 if
    any finds its defect."""
    from openrehab.motion.commands import find_bench_dir, load_bench

    bench = find_bench_dir()
    if bench is None or not (bench / "probes.py").exists():
        fail("bench/ not found: run `openrehab bench probes` from a source checkout")
    code = load_bench(bench / "probes.py").main(url, database_url, out)
    raise typer.Exit(code)


def register_bench(app: typer.Typer) -> None:
    """``api`` and ``probes`` in the ``bench`` group (made by the motion package; made here
    if absent)."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == "bench"), None)
    if group is None:
        group = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)
        app.add_typer(group, name="bench")
    group.command("api")(bench_api_command)
    group.command("probes")(bench_probes_command)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``db`` and ``user`` to the ``openrehab`` CLI."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    from openrehab.web.patient_commands import demo_data, patients

    app.command("patients")(patients)
    app.command("demo-data")(demo_data)
    from openrehab.web.backup_commands import backup, restore

    app.command("backup")(backup)
    app.command("restore")(restore)
