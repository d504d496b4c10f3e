"""Requests (заявки и обращения): categories, statuses and the allowed status changes (pure)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CATEGORY_NAMES",
    "STATUS_NAMES",
    "Category",
    "RequestStatus",
    "TransitionError",
    "check_transition",
    "detect_image_type",
]


class Category(StrEnum):
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    HEATING = "heating"
    METERS = "meters"
    BILLING = "billing"
    COMMON_AREAS = "common_areas"
    OTHER = "other"


CATEGORY_NAMES = {
    Category.PLUMBING: "сантехника",
    Category.ELECTRICAL: "электрика",
    Category.HEATING: "отопление",
    Category.METERS: "приборы учёта",
    Category.BILLING: "начисления и оплата",
    Category.COMMON_AREAS: "общее имущество",
    Category.OTHER: "другое",
}


class RequestStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    CLOSED = "closed"  # done and confirmed by the resident, or closed by the operator (servicedesk)


STATUS_NAMES = {
    RequestStatus.NEW: "новая",
    RequestStatus.IN_PROGRESS: "в работе",
    RequestStatus.DONE: "выполнена",
    RequestStatus.REJECTED: "отклонена",
    RequestStatus.CLOSED: "закрыта",
}

# new → in work or finished; in work → finished; done → closed; a finished or closed request can be reopened.
_ALLOWED = {
    RequestStatus.NEW: {RequestStatus.IN_PROGRESS, RequestStatus.DONE, RequestStatus.REJECTED},
    RequestStatus.IN_PROGRESS: {RequestStatus.DONE, RequestStatus.REJECTED},
    RequestStatus.DONE: {RequestStatus.IN_PROGRESS, RequestStatus.CLOSED},
    RequestStatus.REJECTED: {RequestStatus.IN_PROGRESS},
    RequestStatus.CLOSED: {RequestStatus.IN_PROGRESS},
}


class TransitionError(ValueError):
    pass


def check_transition(current: RequestStatus, new: RequestStatus, comment: str) -> None:
    """Raise TransitionError unless ``current → new`` is allowed. The same status is a comment only
    (needs a comment); rejecting needs a comment saying why."""
    if new == current:
        if not comment.strip():
            raise TransitionError(f"status is already {current.value}; send a comment or another status")
        return
    if new not in _ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in _ALLOWED[current]))
        raise TransitionError(f"cannot change status {current.value} → {new.value}; allowed: {allowed}")
    if new is RequestStatus.REJECTED and not comment.strip():
        raise TransitionError("rejecting a request needs a comment with the reason")


_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def detect_image_type(head: bytes) -> str | None:
    """The image type from the first bytes (JPEG, PNG, WebP), or None: the client's header is not trusted."""
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
