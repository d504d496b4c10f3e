"""A person of the register as data (гражданин): names with history, identity documents, representatives.
Pure dataclasses; :mod:`meterhub.registry.persons_store` reads and writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["DOCUMENT_TYPES_RU", "IdentityDocument", "PersonCard", "PersonName"]

DOCUMENT_TYPES_RU = {
    "passport_rf": "паспорт гражданина Российской Федерации",
    "birth_certificate": "свидетельство о рождении",
    "foreign_passport": "паспорт иностранного гражданина",
    "residence_permit": "вид на жительство",
    "temporary_residence_permit": "разрешение на временное проживание",
    "military_id": "военный билет",
    "other": "иной документ",
}


@dataclass(frozen=True)
class PersonName:
    last_name: str
    first_name: str
    patronymic: str = ""
    valid_from: date | None = None
    reason: str = ""

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


@dataclass(frozen=True)
class IdentityDocument:
    doc_type: str
    number: str
    series: str = ""
    issued_by: str = ""
    issued_on: date | None = None
    subdivision_code: str = ""
    document_id: int | None = None
    replaced_on: date | None = None
    replaced_reason: str = ""

    @property
    def text(self) -> str:
        """«паспорт гражданина Российской Федерации 45 10 № 123456, выдан … 01.02.2010, к/п 770-001»."""
        parts = [DOCUMENT_TYPES_RU.get(self.doc_type, self.doc_type)]
        parts.append(f"{self.series} № {self.number}".strip())
        if self.issued_by or self.issued_on:
            when = self.issued_on.strftime("%d.%m.%Y") if self.issued_on else ""
            parts.append(f"выдан {self.issued_by} {when}".replace("  ", " ").strip())
        if self.subdivision_code:
            parts.append(f"код подразделения {self.subdivision_code}")
        return ", ".join(parts)


@dataclass
class PersonCard:
    person_id: int
    names: list[PersonName]  # oldest first; the last is current
    birth_date: date | None
    birth_place: str
    sex: str | None
    citizenship: str
    snils: str | None
    phone: str
    email: str
    incapacitated: bool
    death_date: date | None
    documents: list[IdentityDocument] = field(default_factory=list)  # current first
    representatives: list[tuple[int, str, str]] = field(default_factory=list)  # (person, name, kind)
    represented: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def name(self) -> PersonName:
        return self.names[-1]

    @property
    def document(self) -> IdentityDocument | None:
        current = [d for d in self.documents if d.replaced_on is None]
        return current[0] if current else None

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))
