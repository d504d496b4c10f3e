"""The resident cabinet's ЕПД (the API's receipt PDF) prints the ЕЛС and ИЖКУ ГИС ЖКХ assigned: the app plugs
the exchange's identifiers into the receipts (tests/api/world.py's city: LS-1 belongs to alice)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the api extra is not installed (pip install -e .[api])")

from fastapi.testclient import TestClient

from meterhub.billing.receipts import set_state_ids_source
from meterhub.core.settings import Settings
from meterhub.exchange.gis.identifiers import store_identifier
from meterhub.timeseries.database import connect
from tests.api.world import build_world
from tests.billing.receipts.receipt_data import page_texts


def test_the_cabinet_receipt_prints_the_state_identifiers(db_url: str, tmp_path: Path) -> None:
    world = build_world(db_url)
    with connect(db_url) as conn:
        store_identifier(conn, "account_els", "LS-1", "77ЖК123456", "test")
        store_identifier(conn, "account_izhku", "LS-1", "77ЖК123456-01", "test")
    from meterhub.api.app import create_app

    settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key="x" * 48, db_pool_max_size=2)
    try:
        with TestClient(create_app(settings)) as client:
            r = client.get("/api/v1/accounts/LS-1/receipts/2026-01.pdf", headers=world.auth("alice"))
    finally:
        set_state_ids_source(None)  # the app plugged it in for this process
    assert r.status_code == 200, r.text
    text = page_texts(r.content)[0]
    assert "ЕЛС: 77ЖК123456" in text and "Идентификатор ЖКУ: 77ЖК123456-01" in text
