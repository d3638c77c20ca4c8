"""``python -m kpo_rules`` is the same program as ``kpo-rules``."""

from kpo_rules.cli import main

if __name__ == "__main__":
    main()
