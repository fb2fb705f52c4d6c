"""Where the project's data files are: ``templates/`` (tab layouts, the report's Word
template) and ``mappings/`` (vocabularies, header aliases, finding texts).

They sit at the top of the repository, because they are the project's data, not code.
A wheel ships them inside the package as ``sync/templates`` and ``sync/mappings``
(``[tool.setuptools.package-dir]`` in ``pyproject.toml``), read here through
:mod:`importlib.resources`. Running from a checkout (an editable install, or tests with the
clone on ``sys.path``) reads the checkout's own folders, so an edit to a template shows at
once and a worktree never reads another copy's files.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

#: The folder holding the ``sync`` package; in a checkout, also ``pyproject.toml``.
_CHECKOUT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Traversable:
    """``templates`` or ``mappings``, wherever this copy of namcoso keeps them."""
    checkout = _CHECKOUT / name
    if (_CHECKOUT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    # Anchored on the package itself: ``sync.templates`` has no ``__init__.py``, and a
    # namespace package would come back as a ``MultiplexedPath`` rather than a folder.
    return resources.files("sync").joinpath(name)


TEMPLATES_DIR = data_dir("templates")
MAPPINGS_DIR = data_dir("mappings")
