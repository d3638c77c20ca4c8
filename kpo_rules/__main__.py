"""``python -m kpo_rules`` is the same program as ``kpo-rules``.

``-m`` puts the working directory first on ``sys.path`` (the console script does not), so a
checked repository holding ``*.dist-info`` folders or modules named like plugins would
decide which code runs. It is taken off before anything else is imported, as ``python -P``
would (``kpo_rules/__init__`` imports nothing beyond the standard library, so nothing
was found there before).
"""

import os
import sys


def _drop_working_directory() -> None:
    if getattr(sys.flags, "safe_path", False) or not sys.path:  # python -P: nothing was added
        return
    try:
        here = os.getcwd()
    except OSError:  # the working directory is gone: nothing can be found in it either
        return
    if sys.path[0] in ("", here):
        del sys.path[0]


if __name__ == "__main__":
    _drop_working_directory()

    from kpo_rules.cli import main

    main()
