"""CLI verbs, one module per capability; each exposes register(app)."""
