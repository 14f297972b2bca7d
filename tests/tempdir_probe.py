"""A module that asks ``tempfile`` for its folder when imported, as some libraries do: preloaded by a
render worker, it makes ``tempfile`` remember the folder from before the sandbox closed."""

import tempfile

FOLDER = tempfile.gettempdir()
