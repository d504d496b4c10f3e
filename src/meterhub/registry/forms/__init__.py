"""Printed forms of the passport office: форма № 6, № 9, № 10 and the справки, filled from the register
(``fill``, pure), editable as :class:`~meterhub.registry.forms.document.FormDocument` fields, rendered to PDF
(``pdf``); ``store`` gathers the data from the database and audits the print."""

from meterhub.registry.forms.document import FORM_KINDS, Field, FormDocument, FormTable
from meterhub.registry.forms.pdf import render_form_pdf

__all__ = ["FORM_KINDS", "Field", "FormDocument", "FormTable", "render_form_pdf"]
