"""``meterhub import``: billing domain data from CSV and XLSX files (see docs/billing-close.md).

:mod:`.specs` and the ``*_specs`` modules say what each file holds (columns, keys, checks; pure),
:mod:`.tabular` and :mod:`.columns` read and parse it, :mod:`.run` validates and upserts a file
all-or-nothing. A migration from a legacy billing system (docs/migration.md) is :mod:`.legacy` with
:mod:`.legacy_checks`, :mod:`.legacy_readings` and the reconciliation report :mod:`.migration_report`;
absence and interruption files of ``meterhub absences`` / ``interruptions`` are :mod:`.service_events`.
"""

from meterhub.billing.imports.run import (
    ENTITY_ORDER,
    ImportFileError,
    ImportResult,
    import_directory,
    import_file,
)

__all__ = ["ENTITY_ORDER", "ImportFileError", "ImportResult", "import_directory", "import_file"]
