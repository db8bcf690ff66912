"""Typed errors: every refusal of the ledger is a problem document (RFC 9457) with a stable
`type` (docs/errors.md); a ProblemError carries it whole."""


class LineageError(Exception):
    """The ledger could not be reached, or answered something that is not the API's."""


class ProblemError(LineageError):
    """A problem document: `status`, `type` (the slug after `urn:lineage:problem:`), `detail`,
    `field`, `index`, and the whole document as `problem`."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", "")).rsplit(":", 1)[-1]
        self.detail = problem.get("detail", "")
        self.field = problem.get("field")
        self.index = problem.get("index")
        self.retry_after = None
        super().__init__(f"{status} {self.type}: {self.detail}")


class Unauthorized(ProblemError):
    """401: no token, or one the ledger did not issue (or revoked, or expired)."""


class Forbidden(ProblemError):
    """403: the token may not read this, or the signer may not sign this."""


class NotFound(ProblemError):
    """404."""


class Conflict(ProblemError):
    """409: an event id used with other bytes, a project or actor that exists."""


class VersionConflict(Conflict):
    """409 version-conflict: `expected` and `actual` say the stream's versions."""

    def __init__(self, status, problem):
        super().__init__(status, problem)
        self.expected = problem.get("expected")
        self.actual = problem.get("actual")


class Unavailable(ProblemError):
    """503 (or 507): the writer is busy or the store unavailable; retry after `retry_after`."""


def problem_error(status, problem, retry_after=None):
    """The ProblemError subclass for a status and type."""
    kind = str(problem.get("type", "")).rsplit(":", 1)[-1]
    if kind == "version-conflict":
        cls = VersionConflict
    else:
        cls = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 503: Unavailable, 507: Unavailable}.get(
            status, ProblemError
        )
    error = cls(status, problem)
    error.retry_after = retry_after
    return error
