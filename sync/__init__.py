"""namcoso — nắm cơ sở: commune sheets → a district master of assignments and evaluations."""

from .config import Config, load_config
from .errors import NamcosoError
from .findings import Finding, Report
from .pipeline import SyncResult, run_sync

__all__ = ["Config", "Finding", "NamcosoError", "Report", "SyncResult", "load_config", "run_sync"]
