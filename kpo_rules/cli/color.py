"""Whether to colour the output, decided the way click- and rich-based tools do.

``--color always|never`` wins. Under ``auto`` (the default): ``NO_COLOR`` set and not
empty means no colour (no-color.org); then ``FORCE_COLOR`` set and not empty means colour
even into a pipe (force-color.org; CI systems set it to colour their logs); then
``TERM=dumb`` means no colour; otherwise colour exactly when the output is a terminal.
``NO_COLOR`` beats ``FORCE_COLOR``, as in rich.

Under pre-commit (which sets ``PRE_COMMIT=1`` for its hooks): when pre-commit's own colour
is on it runs hooks on a pseudo-terminal, so ``auto`` sees a terminal; when it is off, hooks
write to a pipe and get no colour. Where it has no pseudo-terminal (Windows), a
``PRE_COMMIT_COLOR=always|never`` the user set still decides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CHOICES = ("auto", "always", "never")


def should_color(setting: str, stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for ``stream`` under ``--color setting`` and the environment."""
    if setting != "auto":
        return setting == "always"
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("PRE_COMMIT") and env.get("PRE_COMMIT_COLOR") in ("always", "never"):
        return env["PRE_COMMIT_COLOR"] == "always"
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
