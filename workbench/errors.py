"""Errors the workbench reports to people: one clear sentence, never a traceback."""


class WorkbenchError(Exception):
    """A problem a user can act on; the CLI prints it on one line and exits non-zero."""


class StoreError(WorkbenchError):
    """The database file cannot be opened, migrated or written."""


class ConfigError(WorkbenchError):
    """A configuration file is missing or malformed."""


class DamagedStoreError(StoreError):
    """The database file is damaged (truncated, bytes changed): "database X is damaged: ..."."""
