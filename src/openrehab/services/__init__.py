"""Services: the program and progression persisted in the store (used by the web routes).

Data flows one way: sensors -> motion -> session -> store -> views. The store knows nothing
of the planner; these services combine the store with the exercise library and the program
rules, and the web routes stay thin.
"""


class ServiceError(ValueError):
    """A request the services cannot honour; ``field`` names the input at fault (if any)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(LookupError):
    """The record asked for does not exist (for this patient)."""
