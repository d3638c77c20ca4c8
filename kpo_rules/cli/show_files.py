"""``kpo-rules check --show-files``: what a run would check, and what it would skip and why.

Files are read as a run reads them, so a file skipped as not ours is listed as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from kpo_rules.config import Config


def show_files(paths: Sequence[str], config: Config, stdin_filename: str | None) -> str:
    """The listing: one checked file a line, then the skipped ones with their reasons."""
    from kpo_rules.load.discovery import discover  # noqa: PLC0415
    from kpo_rules.pipeline import read  # noqa: PLC0415

    found = discover(paths, config, stdin_filename=stdin_filename)
    checked: list[str] = []
    skipped = [(s.path, s.reason) for s in (*found.skipped, *found.pruned)]
    for source in found.files:
        why = read(source).skipped if source.only_ours else None
        if why is None:
            checked.append(source.name)
        else:
            skipped.append((source.name, why))
    lines = list(checked)
    lines += [f"{finding.file}: {finding.message}" for finding in found.problems]
    if skipped:
        lines += ["", "skipped:"]
        lines += [f"  {path}  ({reason})" for path, reason in sorted(skipped)]
    return "\n".join(lines) + "\n" if lines else ""
