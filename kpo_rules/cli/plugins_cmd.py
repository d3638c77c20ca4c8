"""``kpo-rules plugins``: what is loaded, from where, and what failed."""

from __future__ import annotations

import json
import sys

import click

from kpo_rules.errors import ExitCode


@click.command("plugins")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def plugins_cmd(fmt: str) -> None:
    """List loaded plugins: name, distribution, version, hooks, facts date, load errors."""
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set()
    if fmt == "json":
        click.echo(json.dumps({
            "plugins": [i.as_dict() for i in plugins.infos],
            "errors": [f.as_dict() for f in plugins.failures],
            "disabled": sorted(plugins.blocked),
        }, indent=2))
    else:
        for info in plugins.infos:
            dist = f"{info.distribution} {info.version}" if info.distribution else "(in-process)"
            facts = f"  facts as of {info.facts_as_of}" if info.facts_as_of else ""
            click.echo(f"{info.name:<14} {dist}{facts}")
            click.echo(f"{'':<14} hooks: {', '.join(info.hooks) or '-'}")
        for name in sorted(plugins.blocked):
            click.echo(f"{name:<14} disabled")
        for failure in plugins.failures:
            dist = f" ({failure.distribution})" if failure.distribution else ""
            click.echo(f"{failure.name}{dist}: FAILED TO LOAD: {failure.error}")
    sys.exit(ExitCode.USAGE if plugins.failures else ExitCode.OK)
