"""ipywidgets panels composing workbench library calls (one module per capability)."""
