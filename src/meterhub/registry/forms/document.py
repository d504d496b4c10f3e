"""A printed form as data: title, labelled fields and an optional table — filled from the register, edited
by the clerk before printing (the staff page sends the edited fields back), then rendered to PDF.

Pure: the fill functions take the register's dataclasses, not a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

__all__ = ["FORM_KINDS", "Field", "FormDocument", "FormTable", "ru_date"]

FORM_KINDS: dict[str, str] = {
    "form6": "Форма № 6 — заявление о регистрации по месту жительства",
    "form9": "Форма № 9 — карточка регистрации",
    "form10": "Форма № 10 — поквартирная карточка",
    "registration": "Справка о регистрации по месту жительства",
    "family": "Справка о составе семьи (выписка из домовой книги)",
    "period": "Справка о периоде проживания",
}


def ru_date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""


@dataclass(frozen=True)
class Field:
    """One labelled line of a form; ``key`` identifies it when the clerk edits the value."""

    key: str
    label: str
    value: str = ""


@dataclass(frozen=True)
class FormTable:
    headers: tuple[str, ...]
    widths: tuple[float, ...]  # relative column widths
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class FormDocument:
    kind: str
    title: str
    subtitle: str = ""
    fields: tuple[Field, ...] = ()
    table: FormTable | None = None
    closing: tuple[Field, ...] = ()  # fields after the table (signatures, dates)
    footnote: str = ""
    person_ids: tuple[int, ...] = field(default=(), compare=False)  # whose data it prints (audit)

    def edited(self, values: dict[str, str]) -> FormDocument:
        """The form with the clerk's values for the given keys (unknown keys are refused)."""
        known = {f.key for f in (*self.fields, *self.closing)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"{FORM_KINDS.get(self.kind, self.kind)}: нет полей {', '.join(unknown)}; поля формы: "
                f"{', '.join(sorted(known))}"
            )

        def apply(fields: Sequence[Field]) -> tuple[Field, ...]:
            return tuple(replace(f, value=values[f.key]) if f.key in values else f for f in fields)

        return replace(self, fields=apply(self.fields), closing=apply(self.closing))
