"""legacy_account_volumes is defined four times in the migrations: 0140 created it, 0141, 0142 and 0143 each
replaced it (CREATE OR REPLACE VIEW) with a faster form, and the files stay because an
applied migration must not change (docs/migration.md, «Performance»). The definition in force is 0143's:
it reads the building, premise and service stored on each legacy volume, and no meter links any more
(0140–0142 chose the link in the view).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.db


def test_the_view_in_force_is_the_last_migrations(conn) -> None:
    used = conn.execute(
        "SELECT table_name FROM information_schema.view_table_usage "
        "WHERE view_name = 'legacy_account_volumes' ORDER BY table_name"
    ).fetchall()
    assert used == [("accounts",), ("legacy_meter_volumes",)]
