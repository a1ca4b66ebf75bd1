"""Pegasus Workbench: the analyst library behind Opal's notebooks, widgets and CLI.

Computation lives in capability modules (ingest, geography, hotspots, ...) that return
DataFrames; rendering lives in maps/reports; notebooks and widgets only compose calls.
"""

__version__ = "0.1.0"
