"""Helpers behind ``scripts/dev.py`` (stdlib only; Odoo is imported lazily)."""
