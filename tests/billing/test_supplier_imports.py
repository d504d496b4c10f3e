"""Import files of the suppliers' configuration: suppliers with bank details, service suppliers from a
date, agent contracts (docs/suppliers.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from meterhub.billing.imports import ImportFileError, import_file
from meterhub.billing.money.suppliers.store import agent_contracts, service_suppliers
from tests.billing.money_data import add_building

pytestmark = pytest.mark.db


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_supplier_configuration_imports(conn, tmp_path: Path) -> None:
    add_building(conn, "B1", {"A1": "1"})
    conn.commit()
    import_file(
        conn,
        "suppliers",
        _write(
            tmp_path,
            "suppliers.csv",
            (
                "supplier;name;inn;kind;kpp;bank_name;bic;settlement_account;correspondent_account\n"
                "vodokanal;МУП «Водоканал»;7701234567;resource_supplier;770101001;ПАО СБЕРБАНК;044525225;"
                "40702810900000000002;30101810400000000225\n"
                "fkr;НО «Фонд капремонта»;7702234567;capital_repair_operator;;;;;\n"
            ),
        ),
    )
    import_file(
        conn,
        "service_suppliers",
        _write(
            tmp_path,
            "service_suppliers.csv",
            (
                "building;service;valid_from;supplier\n"
                "B1;cold_water;2025-01-01;vodokanal\nB1;capital_repair;2025-01-01;fkr\n"
            ),
        ),
    )
    import_file(
        conn,
        "agent_contracts",
        _write(
            tmp_path,
            "agent_contracts.csv",
            (
                "source;valid_from;contract_no;percent;minimum_kopecks;borne_by\nsber;2025-01-01;А-17;1,2;0;supplier\n"
            ),
        ),
    )
    rows = {(r.service, r.supplier_id) for r in service_suppliers(conn)}
    assert rows == {("cold_water", "vodokanal"), ("capital_repair", "fkr")}
    (contract,) = agent_contracts(conn)
    assert (contract.percent, contract.valid_from) == (Decimal("1.2"), date(2025, 1, 1))
    assert contract.contract_no == "А-17"
    kind, bic = conn.execute("SELECT kind, bic FROM suppliers WHERE supplier_id = 'vodokanal'").fetchone()
    assert (kind, bic) == ("resource_supplier", "044525225")
    # re-importing an old-style suppliers file (no kind/bank columns) keeps what is stored
    import_file(conn, "suppliers", _write(tmp_path, "old.csv", "supplier;name\nvodokanal;МУП «Водоканал»\n"))
    assert conn.execute("SELECT kind, bic FROM suppliers WHERE supplier_id = 'vodokanal'").fetchone() == (
        "resource_supplier",
        "044525225",
    )


def test_bad_rows_are_listed(conn, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as info:
        import_file(
            conn,
            "service_suppliers",
            _write(
                tmp_path,
                "s.csv",
                (
                    "building;service;valid_from;supplier\nB1;cold_water;2025-01-01;nobody\nNOPE;gas;2025-01-01;fkr\n"
                ),
            ),
        )
    text = str(info.value)
    assert "nobody" in text and "import suppliers first" in text and "service" in text
    with pytest.raises(ImportFileError, match="percent"):
        import_file(
            conn,
            "agent_contracts",
            _write(tmp_path, "a.csv", ("source;valid_from;percent\nsber;2025-01-01;150\n")),
        )
