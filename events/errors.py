"""Domain errors with stable codes; the API renders them as RFC 9457 problems in one place.

The code is the last path segment of the problem's `type` and never changes once published.

    DomainError
    ├── InvalidInput              422 invalid-input      (field errors: `errors`)
    │   ├── IdempotencyMismatch   422 idempotency-key-reused
    │   ├── AccessCodeInvalid     422 access-code-invalid (unknown, revoked, expired, used up)
    │   └── WebhookUrlNotAllowed  422 webhook-url-not-allowed (private, loopback, not https)
    ├── Unauthenticated           401 unauthenticated
    ├── Forbidden                 403 forbidden
    │   └── InvitationRequired    403 invitation-required (invite-only event, no code/invitation)
    ├── NotFound                  404 not-found
    ├── Conflict                  409 (a subclass per rule)
    │   ├── CapacityBelowConfirmed    capacity-below-confirmed
    │   ├── EventFull                 event-full
    │   ├── SessionFull               session-full
    │   ├── RegistrationClosed        registration-closed
    │   ├── AlreadyRegistered         already-registered
    │   ├── InvalidState              invalid-state (e.g. publishing a cancelled event)
    │   ├── AlreadyExists             already-exists
    │   ├── SessionHasRegistrations   session-has-registrations (delete without ?force=1)
    │   └── EventHasRegistrations     event-has-registrations (unpublish)
    ├── CheckinRefused            a scan that does not admit; `result` in the body
    │   ├── AlreadyCheckedIn      409 already-checked-in   (+ the first `checked_in_at`, `door`)
    │   ├── TicketCancelled       409 cancelled
    │   ├── WrongEvent            409 wrong-event
    │   ├── WrongSession          409 wrong-session        (a session door, not its session)
    │   ├── NotConfirmed          409 not-confirmed
    │   ├── NotInside             409 not-inside           (a scan `out` of someone not in)
    │   └── InvalidTicket         422 invalid              (unreadable, altered, forged)
    ├── RequestTimeout            408 request-timeout
    ├── PayloadTooLarge           413 payload-too-large
    ├── UnsupportedMediaType      415 unsupported-media-type
    ├── RateLimited               429 rate-limited                 (+ Retry-After)
    ├── BadgeFontMissing          503 badge-font-missing
    └── DatabaseUnavailable       503 database-unavailable         (+ Retry-After)
        └── OutcomeUnknown        503 outcome-unknown              (+ Retry-After)

DatabaseUnavailable: nothing was done (the database is lost, restarting, read-only, in
recovery or failing over); the same request may be sent again. OutcomeUnknown: a write was on
its way when the answer was lost (the connection dropped after COMMIT was sent, or the
statement timed out), so it may or may not have been stored; sending it again with the same
`Idempotency-Key` is safe (the first answer is replayed if it was stored, else it is done now).
"""

from __future__ import annotations

from typing import Any, ClassVar

ERROR_TYPE_BASE = "https://events.example.org/errors/"

#: A 422 lists at most this many field errors (and says how many more there were), so a
#: body with 10,000 faults gets a short answer.
MAX_LISTED_ERRORS = 20


class FieldError(dict[str, str]):
    """One entry of a 422's `errors`: {"field": "venue.name", "message": "..."}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    #: seconds for the Retry-After header, on errors that pass
    retry_after: int | None = None

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": ERROR_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "The request is not valid"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        listed = [
            FieldError(e["field"][:250], e["message"][:500]) for e in errors[:MAX_LISTED_ERRORS]
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in listed)
        if len(errors) > len(listed):
            summary += "; more not listed"
        super().__init__(detail or summary)
        self.extra = {"errors": listed}

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldError(field, message)])


class WebhookUrlNotAllowed(InvalidInput):
    """A webhook URL this service will not call: not https, or it resolves to a private,
    loopback or link-local address (unless EVENTS_WEBHOOK_ALLOW_PRIVATE=1)."""

    code = "webhook-url-not-allowed"
    title = "This webhook URL is not allowed"

    def __init__(self, message: str) -> None:
        super().__init__([FieldError("url", message)])


class IdempotencyMismatch(DomainError):
    status = 422
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request"


class AccessCodeInvalid(DomainError):
    """One answer for every bad code, so the API is no oracle of which codes exist."""

    status = 422
    code = "access-code-invalid"
    title = "This access code is not valid"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "A valid token is needed"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "This token may not do this"


class InvitationRequired(Forbidden):
    code = "invitation-required"
    title = "This event is by invitation: give an access code or use your invitation"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class CapacityBelowConfirmed(Conflict):
    code = "capacity-below-confirmed"
    title = "Capacity cannot go below the confirmed registrations"


class EventFull(Conflict):
    code = "event-full"
    title = "The event is full"


class SessionFull(Conflict):
    code = "session-full"
    title = "A chosen session is full"


class RegistrationClosed(Conflict):
    code = "registration-closed"
    title = "Registration is not open"


class AlreadyRegistered(Conflict):
    code = "already-registered"
    title = "This email is already registered for the event"


class InvalidState(Conflict):
    code = "invalid-state"
    title = "Not possible in the current state"


class AlreadyExists(Conflict):
    code = "already-exists"
    title = "It exists already"


class SessionHasRegistrations(Conflict):
    code = "session-has-registrations"
    title = "Registrations hold this session"


class EventHasRegistrations(Conflict):
    code = "event-has-registrations"
    title = "People are registered for this event"


class CheckinRefused(DomainError):
    """A scan that admits no one. The body carries `result` (the check-in result, snake
    case; the code is its kebab case) and, where known, `registration` and `checked_in_at`."""

    status = 409
    result: ClassVar[str] = "refused"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, result=self.result, **extra)


class AlreadyCheckedIn(CheckinRefused):
    code = "already-checked-in"
    result = "already_checked_in"
    title = "This ticket is checked in already"


class TicketCancelled(CheckinRefused):
    code = "cancelled"
    result = "cancelled"
    title = "This registration is cancelled"


class WrongEvent(CheckinRefused):
    code = "wrong-event"
    result = "wrong_event"
    title = "This ticket is for another event"


class NotConfirmed(CheckinRefused):
    code = "not-confirmed"
    result = "not_confirmed"
    title = "This registration is not confirmed for this"


class WrongSession(CheckinRefused):
    code = "wrong-session"
    result = "wrong_session"
    title = "This ticket is not registered for this door's session"


class NotInside(CheckinRefused):
    code = "not-inside"
    result = "not_inside"
    title = "This ticket is not inside (it cannot go out)"


class InvalidTicket(CheckinRefused):
    status = 422
    code = "invalid"
    result = "invalid"
    title = "Not a valid ticket"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "The request body is larger than 1 MiB"


class RequestTimeout(DomainError):
    status = 408
    code = "request-timeout"
    title = "The request body was not sent in time"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"
    title = "Send application/json"


class RateLimited(DomainError):
    """Answered with `Retry-After` (whole seconds); `retry_after` is also in the body."""

    status = 429
    code = "rate-limited"
    title = "Too many requests; try again shortly"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail, retry_after=max(1, retry_after))
        self.retry_after = max(1, retry_after)


class BadgeFontMissing(DomainError):
    status = 503
    code = "badge-font-missing"
    title = "No CJK font for badges: install fonts-arphic-uming or set EVENTS_BADGE_FONT"


class DatabaseUnavailable(DomainError):
    status = 503
    code = "database-unavailable"
    title = "The database is unavailable; try again shortly"
    retry_after = 2


class OutcomeUnknown(DatabaseUnavailable):
    code = "outcome-unknown"
    title = "The outcome of this write is unknown; send it again with the same Idempotency-Key"
