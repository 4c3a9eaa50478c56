"""Inventory write paths: sync (backend -> DB), register (console -> backend + DB), edit (two-way)."""
