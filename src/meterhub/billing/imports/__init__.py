"""``meterhub import``: billing domain data from CSV and XLSX files (see docs/billing-close.md)."""

from meterhub.billing.imports.run import (
    ENTITY_ORDER,
    ImportFileError,
    ImportResult,
    import_directory,
    import_file,
)

__all__ = ["ENTITY_ORDER", "ImportFileError", "ImportResult", "import_directory", "import_file"]
