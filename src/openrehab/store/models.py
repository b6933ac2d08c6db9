"""The OpenRehab data model (SQLAlchemy 2 declarative).

One table per thing a clinician would name. Flexible, evolving details (profile regions,
per-rep extra metrics, progression state) live in JSON columns so later features add keys or
columns rather than rewrite tables. Every change to this file needs an Alembic migration in
``store/migrations/versions``.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(enum.StrEnum):
    patient = "patient"
    caregiver = "caregiver"
    therapist = "therapist"
    admin = "admin"


class LinkKind(enum.StrEnum):
    caregiver = "caregiver"
    therapist = "therapist"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native PG enum) so adding a value needs no type migration.
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class TZDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes everywhere (SQLite stores naive; UTC is re-attached on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)

    profile: Mapped[PatientProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )


class AuthToken(Base):
    """A login: browser session cookie or API bearer token. Only the SHA-256 is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "cookie" or "bearer"
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    # When the token last authenticated a request (written at most once a minute): idle expiry.
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed login, kept briefly to slow down password guessing (``accounts.throttle``)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))  # "user:<name>" or "ip:<address>"
    failed_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)


class PatientProfile(Base):
    """Clinical profile of a patient (one per patient user).

    ``regions`` maps a body region to ``{"mas": "1+", "active_movement": true}``; see
    docs/profile.md for the full schema used by the program builder.
    """

    __tablename__ = "patient_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    affected_side: Mapped[str] = mapped_column(String(10), default="left")  # left/right/both
    regions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    can_sit_unsupported: Mapped[bool] = mapped_column(Boolean, default=True)
    can_stand_safely: Mapped[bool] = mapped_column(Boolean, default=False)
    hand_function: Mapped[str | None] = mapped_column(String(40), nullable=True)
    pain_nrs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    goals: Mapped[list[Any]] = mapped_column(default=list)
    daily_rep_target: Mapped[int] = mapped_column(Integer, default=300)
    other_conditions: Mapped[list[Any]] = mapped_column(default=list)
    #: Equipment at hand; None = the household defaults of docs/profile.md.
    equipment: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now, onupdate=utc_now)

    user: Mapped[User] = relationship(back_populates="profile")


class CareLink(Base):
    """A caregiver or therapist who may see a patient's data."""

    __tablename__ = "care_links"
    __table_args__ = (UniqueConstraint("patient_id", "carer_id", name="uq_care_links_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind, "link_kind"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)


class Program(Base):
    """A daily program; only one per patient is active at a time (a partial unique index)."""

    __tablename__ = "programs"
    __table_args__ = (
        Index(
            "uq_programs_one_active",
            "patient_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_rep_target: Mapped[int] = mapped_column(Integer, default=300)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    #: Therapist overrides kept across rebuilds: ``{"daily_rep_target": n|null, "items": [...]}``
    #: with items in the planner's override shape (docs/program.md).
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Why this program was built (by whom, or which progress event triggered the rebuild).
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    items: Mapped[list[ProgramItem]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="ProgramItem.position"
    )


class ProgramItem(Base):
    __tablename__ = "program_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    exercise_id: Mapped[str] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(30))
    side: Mapped[str] = mapped_column(String(10))
    sets: Mapped[int] = mapped_column(Integer)
    reps: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=1)
    rest_s: Mapped[int] = mapped_column(Integer, default=60)
    body_position: Mapped[str | None] = mapped_column(String(20), nullable=True)
    hold_s: Mapped[float] = mapped_column(Float, default=0.0)
    tempo_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    assisted_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    max_velocity_deg_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rules: Mapped[list[Any]] = mapped_column(default=list)
    overridden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    program: Mapped[Program] = relationship(back_populates="items")


class ExerciseSession(Base):
    """One sitting of exercise (several sets), persisted as it happens."""

    __tablename__ = "exercise_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    source: Mapped[str] = mapped_column(String(30), default="camera")  # camera/imu/file/manual
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)

    sets: Mapped[list[ExerciseSet]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="ExerciseSet.id"
    )


class ExerciseSet(Base):
    __tablename__ = "exercise_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("exercise_sessions.id", ondelete="CASCADE"), index=True
    )
    exercise_id: Mapped[str] = mapped_column(String(80))
    side: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(30))
    level: Mapped[int] = mapped_column(Integer, default=1)
    target_reps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    #: When the progression ran on this set (set once, so ending twice never counts twice).
    progressed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    pain_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How the reps were counted: camera, tap, rhythm, demo, upload (None: older sets).
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    #: What is not a repetition, e.g. the rhythm game's score, streak and timing error.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: What the progression judged the set from: ``{"progress": the exercise's state before
    #: (None: none yet), "pain_flagged": pain flagged when the set ended}`` (migration 0008),
    #: so an undone pain score can take back the set's pain judgement (services.progress).
    judged_from: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    session: Mapped[ExerciseSession] = relationship(back_populates="sets")
    repetitions: Mapped[list[Repetition]] = relationship(
        back_populates="exercise_set", cascade="all, delete-orphan", order_by="Repetition.index"
    )


class Repetition(Base):
    """One repetition with its timing (seconds from set start) and quality metrics."""

    __tablename__ = "repetitions"
    __table_args__ = (
        UniqueConstraint("set_id", "index", name="uq_repetitions_set_index"),
        UniqueConstraint("set_id", "client_id", name="uq_repetitions_set_client_id"),
        # "Repetitions today" seeks each set's entries of the day (migration 0007).
        Index("ix_repetitions_set_id_recorded_at", "set_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("exercise_sets.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    peak_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rom: Mapped[float | None] = mapped_column(Float, nullable=True)
    rom_unit: Mapped[str | None] = mapped_column(String(10), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_velocity: Mapped[float | None] = mapped_column(Float, nullable=True)
    mean_velocity: Mapped[float | None] = mapped_column(Float, nullable=True)
    sparc: Mapped[float | None] = mapped_column(Float, nullable=True)
    ldlj: Mapped[float | None] = mapped_column(Float, nullable=True)
    velocity_peaks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    too_fast: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    # The sender's own id for the rep (a retry or a second device sends the same one).
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    exercise_set: Mapped[ExerciseSet] = relationship(back_populates="repetitions")


class Assessment(Base):
    """A clinical measurement: MAS grade, Tardieu R1/R2 angles, goniometer ROM, etc."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # mas, tardieu, rom, pain, other
    region: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(10))
    #: The muscle group assessed, e.g. "elbow flexors" (None: the region as a whole).
    muscle: Mapped[str | None] = mapped_column(String(60), nullable=True)
    #: How it was measured: goniometer, sensor, camera, visual, manual...
    method: Mapped[str | None] = mapped_column(String(40), nullable=True)
    value: Mapped[str | None] = mapped_column(String(20), nullable=True)  # e.g. MAS "1+"
    #: Ordinal code of an ordinal scale (MAS 0..5 for 0, 1, 1+, 2, 3, 4): sorted and charted
    #: as steps, never averaged.
    ordinal: Mapped[int | None] = mapped_column(Integer, nullable=True)
    r1_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    r2_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    rom_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    measured_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TherapyEvent(Base):
    """An add-on therapy: botulinum toxin injection, baclofen change, e-stim, splint."""

    __tablename__ = "therapy_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)


class PainReport(Base):
    """Pain on the 0-10 numeric rating scale, optionally tied to a session."""

    __tablename__ = "pain_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    nrs: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(60), nullable=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("exercise_sessions.id", ondelete="SET NULL"), nullable=True
    )
    reported_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Set when the reporter undid a mis-tap (within a minute); such a report counts for nothing.
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    #: The profile's current pain before this report set it (restored when it is undone).
    profile_nrs_before: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SymptomReport(Base):
    """Symptoms reported about a therapy: possible spread of toxin after an injection, skin
    problems under a splint. Codes are those of ``care.therapies``."""

    __tablename__ = "symptom_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    about: Mapped[str] = mapped_column(String(30))  # botulinum_toxin, splint
    symptoms: Mapped[list[Any]] = mapped_column(default=list)
    reported_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExerciseProgress(Base):
    """Progression state per patient, exercise and side (level, XP, up-down state)."""

    __tablename__ = "exercise_progress"
    __table_args__ = (
        UniqueConstraint("patient_id", "exercise_id", "side", name="uq_exercise_progress_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(80))
    side: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer, default=1)
    xp: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now, onupdate=utc_now)


class ProgressEvent(Base):
    """An explainable progression event: level change, unlock, streak, rest prompt."""

    __tablename__ = "progress_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
    exercise_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    side: Mapped[str | None] = mapped_column(String(10), nullable=True)
    set_id: Mapped[int | None] = mapped_column(
        ForeignKey("exercise_sets.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    from_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    xp: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text)


class AuditLog(Base):
    """Who did what to which record (logins, writes, permission refusals)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PatientNote(Base):
    """A therapist's free-text note about a patient (clinicians read them; they go into the
    progress report)."""

    __tablename__ = "patient_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utc_now)
