"""Resident cabinet (личный кабинет жителя): server-rendered page shells and bundled static assets.

The pages are Jinja2 layouts in Russian; their data comes from the JSON API (``/api/v1``) through
small vanilla-JS modules that send the session cookie and the CSRF header. Everything a page needs
(CSS, JS, the SVG chart code, icons) ships inside the package, so the cabinet works offline.
"""

from meterhub.api.web.pages import CABINET_PREFIX, PAGES, router

__all__ = ["CABINET_PREFIX", "PAGES", "router"]
