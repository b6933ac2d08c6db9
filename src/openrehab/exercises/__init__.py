"""Exercise library: data files validated by a schema, lookups and code-drawn diagrams.

Public API: ``library.load_library``, ``library.Library``, ``library.ExerciseLibraryError``,
``schema.Exercise`` (and ``Level``, ``Sensing``, ...), ``diagrams.exercise_svg``.
"""
