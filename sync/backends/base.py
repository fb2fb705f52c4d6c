"""The seam between the pipeline and where the sheets live.

Raw grids cross this seam: a tab is a list of rows, each a list of cell values as stored
(str, int, float, bool, ``datetime``/``date``, or None), unformatted. Google gives dates
as serial numbers; Excel gives ``datetime``. The normalizer handles both, so everything
between pull and write is the same code for every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Grid = list[list[Any]]


@dataclass(frozen=True)
class CommuneSheet(Mapping[str, Grid]):
    """One commune sheet as read: its tabs by title, plus what the pipeline needs to
    write back safely.

    ``token`` names exactly the content that was read (a content hash, or a digest of the
    tabs read); pass it back as ``expected`` to :meth:`Backend.write_commune`, which then
    refuses to overwrite a save made since. ``identity`` is the commune code the sheet
    carries where users do not edit it (a document property, developer metadata), or None
    when it carries none.
    """

    grids: dict[str, Grid]
    token: str | None = None
    identity: str | None = None

    def __getitem__(self, title: str) -> Grid:
        return self.grids[title]

    def __iter__(self) -> Iterator[str]:
        return iter(self.grids)

    def __len__(self) -> int:
        return len(self.grids)


@dataclass(frozen=True)
class ColumnSpec:
    """How a written column is shown: its header, width (characters) and number format."""

    header: str
    width: float = 12
    format: str | None = None  # "percent" | "date" | "month" | "vnd" | "integer" | None


@dataclass
class OutputTab:
    """A tab that namcoso writes: a header row plus data rows, values only.

    Strings are always written as text, never as formulas, whatever they start with.
    """

    title: str
    columns: list[ColumnSpec]
    rows: list[list[Any]]
    frozen_rows: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def grid(self) -> Grid:
        return [self.headers, *self.rows]


class Backend(Protocol):
    """What the pipeline needs from a place that holds the master and the commune sheets."""

    #: Requests made so far (Google API calls; workbook opens/saves for the local backend).
    requests: int

    def read_registry(self) -> dict[str, Grid]:
        """The master's district-owned tabs by title. A tab that does not exist is absent.

        Raises :class:`sync.errors.MasterUnavailable` when the master cannot be read.
        """

    def fingerprints(self, sources: list[str]) -> dict[str, str]:
        """A fingerprint per commune source that changes whenever its content changes.

        A source that cannot be found is left out of the answer.
        """

    def read_commune(self, source: str) -> CommuneSheet:
        """Every tab of one commune sheet by title, with its read token and identity.

        Raises :class:`sync.errors.SourceUnavailable` when it cannot be read.
        """

    def read_master_tabs(self, titles: list[str]) -> dict[str, Grid]:
        """These tabs of the master by title (those that exist), as raw values. The
        pipeline reads the ``TH`` tabs to rebuild a lost state store.

        Raises :class:`sync.errors.MasterUnavailable` when the master cannot be read.
        """

    def write_master(self, tabs: list[OutputTab]) -> None:
        """Replace these sync-owned tabs of the master at once (all or nothing).

        Never touches any other tab.
        """

    def write_commune(
        self,
        source: str,
        tabs: list[OutputTab],
        *,
        expected: str | None = None,
        identity: str | None = None,
    ) -> None:
        """Replace these namcoso-owned tabs of one commune sheet (all or nothing).

        ``expected`` is the :attr:`CommuneSheet.token` of this run's read (or the source's
        fingerprint when it was not read this run): if the sheet no longer holds that
        content, nothing is written and :class:`sync.errors.SourceChanged` is raised, so
        the next run reads the commune's save. ``identity`` is the commune code to stamp
        on the sheet. Raises :class:`sync.errors.SourceUnavailable` when the sheet cannot
        be written (open elsewhere, read-only); the pipeline retries next run.
        """

    def missing_controls(self, source: str, hamlets: list[str]) -> list[str]:
        """Input tabs of a provisioned commune sheet whose dropdowns or header lock were
        removed (empty for a sheet namcoso did not provision)."""

    def describe(self, source: str) -> str:
        """A short human name for a source (a file name or a sheet ID) for messages."""
