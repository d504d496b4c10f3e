"""Log lines during the demo: printed once per kind above the live view, all counted for the summary."""

from __future__ import annotations

import logging

from rich.console import Console

from meterhub.cli.demo_console import logs_above_live


def test_warnings_are_printed_once_per_kind_and_counted_for_the_summary():
    console = Console(record=True, width=80, force_terminal=False)
    log = logging.getLogger("meterhub.gateway.runner")
    with logs_above_live(console) as kept:
        for frame in ("06 03 04 3f e4", "06 03 04 3f a5", "06 03 04 3f cc"):
            log.warning("device rs485/6: day_start read failed: crc: CRC error in %s", frame)
        log.warning("device lan/4 is down: timeout")
        logging.getLogger("meterhub.x").info("routine progress")  # not shown, not kept
    printed = console.export_text()
    assert printed.count("day_start read failed") == 1  # repeats of one kind are not reprinted
    assert "device lan/4 is down" in printed and "routine progress" not in printed
    lines = kept.lines()
    assert lines[0].startswith("WARNING ×3 meterhub.gateway.runner: device rs485/6: day_start")
    assert any("lan/4 is down" in line for line in lines) and len(lines) == 2
    assert logging.getLogger().handlers and not any(h is kept for h in logging.getLogger().handlers)
