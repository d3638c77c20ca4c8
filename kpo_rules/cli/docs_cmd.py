"""``kpo-rules docs [PAGE]``: the user guide in the terminal, from the installed package."""

from __future__ import annotations

import click

from kpo_rules.errors import ExitCode


@click.command("docs")
@click.argument("page", required=False)
@click.option("--path", "show_path", is_flag=True,
              help="Print where the page (or, without PAGE, the pages) are on disk.")
def docs_cmd(page: str | None, show_path: bool) -> None:
    """Print page PAGE of the documentation, or list the pages.

    Rule pages are `rules/ID` (the same text as `kpo-rules rules show ID`).
    """
    import difflib  # noqa: PLC0415

    from kpo_rules.userdocs import docs_root, pages, title  # noqa: PLC0415

    found = pages()
    if not found:
        click.echo("kpo-rules: error: this installation has no documentation pages",
                   err=True)
        raise SystemExit(ExitCode.USAGE)
    if page is None:
        if show_path:
            click.echo(str(docs_root()))
            return
        width = max(len(name) for name in found if not name.startswith("rules/"))
        for name, path in found.items():
            if not name.startswith("rules/") or name == "rules/index":
                click.echo(f"{name:<{width}}  {title(path)}")
        click.echo("\nkpo-rules docs PAGE prints a page; rule pages are rules/ID "
                   "(kpo-rules rules show ID).")
        return
    name = page.removesuffix(".md").strip("/")
    if name not in found and f"rules/{name.upper()}" in found:
        name = f"rules/{name.upper()}"  # a rule id
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else \
            "; `kpo-rules docs` lists the pages"
        raise click.UsageError(f"no page '{page}'{hint}")
    if show_path:
        click.echo(str(found[name]))
        return
    click.echo(found[name].read_text(encoding="utf-8"), nl=False)
