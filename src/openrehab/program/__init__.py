"""Personal program: patient profile, rule-based daily plan, progression and metronome.

Public API: ``profile.PatientProfile``/``parse_profile``/``load_profile``,
``planner.build_plan``/``Plan``/``Overrides``, ``progression.record_set``/
``record_patient_set``/``summary``, ``music.metronome_schedule``. Rules and their sources:
``rules`` and ``docs/program.md``.
"""
