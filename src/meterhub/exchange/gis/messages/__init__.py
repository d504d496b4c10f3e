"""Message builders, one module per ГИС ЖКХ operation: dataclasses in (:mod:`..model`), request element out.

Pure: no database, no clock (dates and GUID factories are passed in). Every builder returns a
:class:`~meterhub.exchange.gis.model.BuiltMessage`; :mod:`meterhub.exchange.gis.exports` validates it.
"""
