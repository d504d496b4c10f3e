"""Filling the printed forms from the register (pure: dataclasses in, :class:`FormDocument` out).

Field lists follow the forms of the Административный регламент МВД России по регистрационному учёту
(Приказ МВД России от 31.12.2017 № 984: форма № 6 — заявление о регистрации по месту жительства, форма
№ 9 — карточка регистрации, форма № 10 — поквартирная карточка); справки follow the common practice of
управляющие компании (there is no federal form). See docs/passport-office.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from meterhub.registry.events import HouseholdMember, ResidenceKind
from meterhub.registry.forms.document import FORM_KINDS, Field, FormDocument, FormTable, ru_date
from meterhub.registry.persons import PersonCard

__all__ = [
    "Arrival",
    "Premise",
    "family_certificate",
    "form6",
    "form9",
    "form10",
    "period_certificate",
    "registration_certificate",
]

SEX_RU = {"male": "мужской", "female": "женский", None: ""}
KIND_RU = {
    ResidenceKind.RESIDENCE: "по месту жительства",
    ResidenceKind.STAY: "по месту пребывания",
    ResidenceKind.NOTICE: "временно проживающий",
}
REASON_RU = {
    "departure": "выбытие",
    "death": "смерть",
    "court": "решение суда",
    "stay_ended": "окончание пребывания",
}


@dataclass(frozen=True)
class Premise:
    address: str  # building address, as on receipts
    premise_no: str
    area: str = ""  # общая площадь [м²], text as printed
    owners: tuple[str, ...] = ()  # «Иванов И. П., доля 1/2, договор купли-продажи № 5 от 01.02.2010»
    authority: str = ""  # орган регистрационного учёта (the МВД subdivision)

    @property
    def full_address(self) -> str:
        return f"{self.address}, кв. {self.premise_no}"


@dataclass(frozen=True)
class Arrival:
    """One registration of the person, with the event's details."""

    kind: ResidenceKind
    start: date
    end: date | None
    moved_from: str = ""
    moved_to: str = ""
    relation_to_head: str = ""
    basis: str = ""
    end_reason: str = ""


def _person_fields(p: PersonCard, birth_place: bool = True) -> list[Field]:
    fields = [
        Field("full_name", "Фамилия, имя, отчество (при наличии)", p.name.full),
        Field("birth_date", "Дата рождения", ru_date(p.birth_date)),
        Field("sex", "Пол", SEX_RU.get(p.sex, "")),
    ]
    if birth_place:
        fields.append(Field("birth_place", "Место рождения", p.birth_place))
    return fields


def _document_fields(p: PersonCard, prefix: str = "doc", label: str = "Документ, удостоверяющий личность"):
    d = p.document
    return [Field(f"{prefix}", label, d.text if d else "")]


def _former_names(p: PersonCard) -> str:
    return "; ".join(
        f"{n.full} (до {ru_date(later.valid_from)})" for n, later in zip(p.names, p.names[1:], strict=False)
    )


def form6(
    p: PersonCard, premise: Premise, arrival: Arrival, today: date, representative: PersonCard | None = None
) -> FormDocument:
    """Заявление о регистрации по месту жительства (форма № 6)."""
    fields = [
        Field("authority", "В орган регистрационного учёта", premise.authority),
        *_person_fields(p),
        Field("phone", "Телефон", p.phone),
        Field("moved_from", "Прибыл(а) из (адрес прежнего места жительства)", arrival.moved_from),
        Field(
            "representative",
            "Законный представитель (ФИО, документ)",
            f"{representative.name.full}, {representative.document.text if representative.document else ''}"
            if representative
            else "",
        ),
        Field("address", "Прошу зарегистрировать по месту жительства по адресу", premise.full_address),
        Field("basis", "Основание для вселения (документ, являющийся основанием)", arrival.basis),
        Field("owner", "Собственник (наниматель) жилого помещения", "; ".join(premise.owners)),
        *_document_fields(p),
    ]
    closing = (
        Field(
            "applicant_date", "Дата подачи заявления, подпись заявителя", f"{ru_date(today)}  ____________"
        ),
        Field("owner_sign", "Подпись собственника (нанимателя), предоставившего помещение", "____________"),
        Field("accepted_by", "Заявление принял (должность, ФИО, подпись)", ""),
        Field("registered_on", "Зарегистрирован(а) по месту жительства с", ru_date(arrival.start)),
    )
    return FormDocument("form6", FORM_KINDS["form6"], FORM6_APPENDIX, tuple(fields), None, closing,
                        person_ids=(p.person_id,))  # fmt: skip


# Форма № 6 is приложение № 5 to the regulation (the appendix's heading, read in a published copy of it; see
# docs/passport-office.md). The appendix numbers of forms № 9 and № 10 could not be confirmed, so their
# prints name no appendix number.
FORM6_APPENDIX = (
    "Приложение № 5 к Административному регламенту Министерства внутренних дел Российской Федерации "
    "по предоставлению государственной услуги по регистрационному учёту граждан Российской Федерации "
    "по месту пребывания и по месту жительства в пределах Российской Федерации "
    "(Приказ МВД России от 31.12.2017 № 984)"
)


def form9(
    p: PersonCard, premise: Premise, arrival: Arrival, children: Sequence[PersonCard] = ()
) -> FormDocument:
    """Карточка регистрации (форма № 9): the person's registration at the address."""
    fields = [
        *_person_fields(p),
        Field("former_names", "Прежние фамилия, имя, отчество", _former_names(p)),
        Field("citizenship", "Гражданство", p.citizenship),
        Field("address", "Адрес регистрации", premise.full_address),
        Field("kind", "Вид регистрации", KIND_RU[arrival.kind]),
        Field("moved_from", "Откуда прибыл", arrival.moved_from),
        Field("registered_on", "Дата регистрации", ru_date(arrival.start)),
        Field(
            "until",
            "Срок регистрации до",
            ru_date(arrival.end) if arrival.kind is not ResidenceKind.RESIDENCE else "",
        ),
        *_document_fields(p),
        Field("moved_to", "Куда выбыл", arrival.moved_to),
        Field(
            "deregistered_on",
            "Дата снятия с регистрационного учёта",
            ru_date(arrival.end) if arrival.end_reason else "",
        ),
        Field("reason", "Основание снятия с учёта", REASON_RU.get(arrival.end_reason, arrival.end_reason)),
    ]
    table = FormTable(
        ("Дети до 14 лет (ФИО)", "Дата рождения", "Документ"),
        (5, 2, 5),
        tuple((c.name.full, ru_date(c.birth_date), c.document.text if c.document else "") for c in children),
    )
    return FormDocument("form9", FORM_KINDS["form9"], premise.authority, tuple(fields), table,
                        person_ids=(p.person_id, *(c.person_id for c in children)))  # fmt: skip


def _household_rows(members: Sequence[HouseholdMember]) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (
            str(i),
            m.full_name,
            m.relation_to_head,
            str(m.birth_date.year) if m.birth_date else "",
            KIND_RU[m.span.kind],
            ru_date(m.span.start),
            m.moved_from,
            ru_date(m.span.end) if m.span.ended_by or m.span.kind is not ResidenceKind.RESIDENCE else "",
            m.moved_to,
        )
        for i, m in enumerate(members, 1)
    )


_HOUSEHOLD_HEADERS = (
    "№", "Фамилия, имя, отчество", "Родственные отношения", "Год рождения", "Вид регистрации",
    "Зарегистрирован с", "Откуда прибыл", "Снят с учёта / до", "Куда выбыл",
)  # fmt: skip
_HOUSEHOLD_WIDTHS = (0.6, 5, 2.4, 1.6, 2.4, 2, 3, 2, 3)


def form10(premise: Premise, members: Sequence[HouseholdMember], person_ids: Sequence[int]) -> FormDocument:
    """Поквартирная карточка (форма № 10): everyone ever registered in the premise, the archive included."""
    fields = (
        Field("address", "Адрес жилого помещения", premise.full_address),
        Field("area", "Общая площадь, м²", premise.area),
        Field(
            "owner",
            "Собственник (наниматель), доли, правоустанавливающий документ",
            "; ".join(premise.owners),
        ),
    )
    table = FormTable(_HOUSEHOLD_HEADERS, _HOUSEHOLD_WIDTHS, _household_rows(members))
    return FormDocument("form10", FORM_KINDS["form10"], premise.authority, fields, table,
                        person_ids=tuple(person_ids))  # fmt: skip


def _signature(today: date) -> tuple[Field, ...]:
    return (
        Field("issued_on", "Дата выдачи", ru_date(today)),
        Field("issuer", "Должностное лицо, ответственное за регистрационный учёт (ФИО, подпись)", ""),
    )


def registration_certificate(p: PersonCard, premise: Premise, arrival: Arrival, today: date) -> FormDocument:
    """Справка о регистрации по месту жительства (or stay) on ``today``."""
    fields = (
        *_person_fields(p, birth_place=False),
        Field("address", "Зарегистрирован(а) по адресу", premise.full_address),
        Field("kind", "Вид регистрации", KIND_RU[arrival.kind]),
        Field("registered_on", "Дата регистрации", ru_date(arrival.start)),
        Field("until", "Срок регистрации до", ru_date(arrival.end) if arrival.end else "бессрочно"),
        Field("purpose", "Справка выдана для предъявления", "по месту требования"),
    )
    return FormDocument("registration", FORM_KINDS["registration"], premise.authority, fields, None,
                        _signature(today), person_ids=(p.person_id,))  # fmt: skip


def family_certificate(
    premise: Premise, members: Sequence[HouseholdMember], today: date, person_ids: Sequence[int]
) -> FormDocument:
    """Справка о составе семьи (выписка из домовой книги): persons registered in the premise on ``today``."""
    current = [m for m in members if m.span.covers(today)]
    fields = (
        Field("address", "Адрес жилого помещения", premise.full_address),
        Field("area", "Общая площадь, м²", premise.area),
        Field("owner", "Собственник (наниматель)", "; ".join(premise.owners)),
        Field("on_date", "Состав зарегистрированных на дату", ru_date(today)),
        Field("count", "Всего зарегистрировано, человек", str(len({m.span.person_id for m in current}))),
    )
    rows = tuple(r[:6] for r in _household_rows(current))
    table = FormTable(_HOUSEHOLD_HEADERS[:6], _HOUSEHOLD_WIDTHS[:6], rows)
    return FormDocument("family", FORM_KINDS["family"], premise.authority, fields, table, _signature(today),
                        person_ids=tuple(person_ids))  # fmt: skip


def period_certificate(
    p: PersonCard, premise: Premise, arrivals: Sequence[Arrival], first: date, last: date, today: date
) -> FormDocument:
    """Справка о периоде проживания: the person's registrations at the address within ``[first, last]``."""
    rows = []
    for a in arrivals:
        start, end = max(a.start, first), a.end
        if start > last or (end is not None and end <= first):
            continue
        shown_end = ru_date(end - timedelta(days=1)) if end is not None and end <= last else ru_date(last)
        rows.append((KIND_RU[a.kind], ru_date(start), shown_end, REASON_RU.get(a.end_reason, "")))
    fields = (
        *_person_fields(p, birth_place=False),
        Field("address", "Адрес", premise.full_address),
        Field("period", "Период, за который выдана справка", f"с {ru_date(first)} по {ru_date(last)}"),
    )
    table = FormTable(("Вид регистрации", "С", "По", "Основание окончания"), (3, 2, 2, 3), tuple(rows))
    return FormDocument("period", FORM_KINDS["period"], premise.authority, fields, table, _signature(today),
                        person_ids=(p.person_id,))  # fmt: skip
