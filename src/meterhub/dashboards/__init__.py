"""Grafana dashboards for engineers, as code (grafana-foundation-sdk), and their provisioning.

Every panel is a :class:`~meterhub.dashboards.spec.PanelSpec`: its SQL (with Grafana's PostgreSQL macros and
template variables), the columns it returns, and how it is drawn. ``catalog.DASHBOARDS`` lists them all.
"""
