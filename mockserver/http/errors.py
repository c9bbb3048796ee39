"""One exception for every refusal (each provider renders it in its own envelope), and the error an
in-process client sees where a real connection would break."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .spec import Problem


class ApiError(Exception):
    """An error answer: HTTP status, the provider's code, a message that names the field."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.problems = list(problems)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem], *, default_code: str, status: int = 400) -> ApiError:
        first = problems[0]
        return cls(status, first.error_type or default_code, first.message, field=first.field, problems=problems)


class EmulatedNetworkError(Exception):
    """Raised in-process (no socket) where a real server would reset or close the connection;
    the test kit's transports turn it into the httpx error a socket gives."""

    def __init__(self, kind: str, received: int = 0, expected: int | None = None) -> None:
        super().__init__(f"emulated network fault: {kind}")
        self.kind = kind
        self.received = received
        self.expected = expected
