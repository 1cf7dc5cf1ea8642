"""Answers to an event's questions, checked against the questions (registration.py)."""

from __future__ import annotations

from typing import Any

from events.errors import FieldError

Answer = str | bool | list[str]


def answer_errors(answers: dict[str, Answer], questions: list[dict[str, Any]]) -> list[FieldError]:
    errors = []
    by_id = {question["id"]: question for question in questions}
    for key in answers:
        if key not in by_id:
            errors.append(FieldError(f"answers.{key}", "is not a question of this event"))
    for qid, question in by_id.items():
        value, field = answers.get(qid), f"answers.{qid}"
        kind = question.get("kind", "text")
        missing = value is None or value in ("", []) or (kind == "checkbox" and value is False)
        if missing:
            if question.get("required"):
                errors.append(FieldError(field, "is required"))
            continue
        if kind == "checkbox" and not isinstance(value, bool):
            errors.append(FieldError(field, "must be true or false"))
        elif kind == "choice" and value not in question.get("options", []):
            errors.append(FieldError(field, "must be one of the options"))
        elif kind == "text" and (not isinstance(value, str) or len(value) > 2000):
            errors.append(FieldError(field, "must be text of at most 2000 characters"))
    return errors
