"""The dashboard: server-rendered pages over the same control layer as the API.

Jinja2 templates, htmx (vendored in static/, see static/VENDORED.md) for forms
and server-sent events; no build step, nothing fetched at run time.
"""
