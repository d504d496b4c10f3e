"""Exchange (обмен): formats to and from other systems, built from what billing and the money produced.

Today: :mod:`meterhub.exchange.gis` — the messages of ГИС ЖКХ (the state housing information system),
validated against the operator's published schemas (release 14.4.0.1, shipped in
``exchange/gis/schemas``). Exchange owns no domain data: it keeps only what other systems return
(identifiers ГИС ЖКХ assigns, what was exported and when) and the facts it must answer from that no
other stage holds yet (court decisions, until the claims stage fills them). See docs/gis-zhkh.md.
"""
