"""Spasticity care: the catch angle (Tardieu), therapies, safety rules and contracture risk.

Pure clinical logic, like ``program``: no store, transport or CLI here (``care.commands`` is the
thin CLI shell). Every rule carries its clinical source (``care.rules``); the services turn
stored records into the inputs these functions take, and the pages show their words.
"""
