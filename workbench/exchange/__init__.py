"""Exchange formats: the store written out for other tools (Spark, DuckDB, pandas) to read elsewhere.

`export_parquet` writes the canonical tables as Parquet with a schema file (docs/exchange.md)."""
from workbench.exchange.parquet import PARTITIONS, TABLES, choose_tables, export_parquet

__all__ = ["PARTITIONS", "TABLES", "choose_tables", "export_parquet"]
