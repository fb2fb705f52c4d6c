"""The one root exception of namcoso, and its kinds.

Exceptions are for runs that cannot go on (configuration, credentials, the master
unreachable, another sync running). Problems in a commune's data are never exceptions:
they are :class:`sync.findings.Finding` values.
"""

from __future__ import annotations


class NamcosoError(Exception):
    """A run cannot go on. ``message`` is one line in Vietnamese for the operator.

    ``exit_code`` is what the command line exits with; ``transient`` says whether the
    next scheduled run may succeed without anyone doing anything.
    """

    exit_code = 2
    transient = False

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message} ({self.detail})"


class ConfigError(NamcosoError):
    """The configuration is missing or wrong (namcoso.toml, credentials, IDs)."""

    exit_code = 2


class SourceUnavailable(NamcosoError):
    """One commune's sheet could not be read (no access, deleted, corrupt, network).

    The run goes on with the other communes; this commune keeps its last good rows.
    """

    exit_code = 3
    transient = True


class SourceChanged(NamcosoError):
    """A commune sheet changed between this run's read and its feedback write.

    Nothing was written; the next run reads the new content.
    """

    exit_code = 3
    transient = True


class MasterUnavailable(NamcosoError):
    """The master could not be read or written; the run stops and changes nothing."""

    exit_code = 4
    transient = True


class StateUnavailable(NamcosoError):
    """The state store (``.namcoso/state.sqlite``) cannot be opened or written: disk full,
    a read-only folder, an I/O error. Nothing of the run's state was committed."""

    exit_code = 4
    transient = True


class MasterBusy(NamcosoError):
    """The master is open in Excel/LibreOffice or changed during the run."""

    exit_code = 5
    transient = True


class SyncLocked(NamcosoError):
    """Another sync holds the run lock."""

    exit_code = 75  # EX_TEMPFAIL
    transient = True
