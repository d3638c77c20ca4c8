"""The ``kpo-rules`` command: a thin layer over :func:`kpo_rules.check`.

Subcommands live in one module each and are imported only when invoked, so
``kpo-rules check one.yaml`` never pays for the code of ``rules`` or ``schema``.
"""

from __future__ import annotations

import gc
import importlib
import signal
import sys

import click

from kpo_rules._version import __version__

#: command name -> "module:attribute"
COMMANDS = {
    "catalogue": "kpo_rules.cli.catalogue_cmd:catalogue_cmd",
    "check": "kpo_rules.cli.check:check_cmd",
    "docs": "kpo_rules.cli.docs_cmd:docs_cmd",
    "explain": "kpo_rules.cli.explain_cmd:explain_cmd",
    "init": "kpo_rules.cli.init_cmd:init_cmd",
    "plugin": "kpo_rules.cli.plugin_cmd:plugin_cmd",
    "plugins": "kpo_rules.cli.plugins_cmd:plugins_cmd",
    "rules": "kpo_rules.cli.rules_cmd:rules_cmd",
    "test": "kpo_rules.cli.test_cmd:test_cmd",
    "schema": "kpo_rules.cli.schema_cmd:schema_cmd",
    "staff": "kpo_rules.cli.staff_cmd:staff_cmd",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set()
    click.echo(f"kpo-rules {__version__} (Python {sys.version.split()[0]})")
    click.echo("registered plugins:")
    for info in plugins.infos:
        dist = f" from {info.distribution} {info.version}" if info.distribution else ""
        click.echo(f"  {info.name}{dist}")
    for failure in plugins.failures:
        click.echo(f"  {failure.name}: FAILED TO LOAD ({failure.error})")
    ctx.exit(2 if plugins.failures else 0)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the loaded plugins, then exit.",
)
def cli() -> None:
    """Check knowledge-process-outsourcing engagements against declarative rules."""


#: Exit statuses of a run ended by a signal: 128 + the signal's number, as shells report.
INTERRUPTED, TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM


def main() -> None:
    """Console-script entry point. Ctrl-C exits 130 and SIGTERM 143, after the run has
    ended its worker processes (they never outlive it)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        # Not standalone: click would turn Ctrl-C into "Aborted!" and exit 1.
        status = cli.main(prog_name="kpo-rules", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("kpo-rules: interrupted", err=True)
        sys.exit(INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    finally:
        # The process ends here. Its last collections would walk every object alive (the
        # rules, catalogues and modules) to find what the exit frees anyway: a tenth of a
        # one-file check (measured). Frozen objects are left out of those walks.
        gc.freeze()
    sys.exit(status if isinstance(status, int) else 0)  # ctx.exit(n) returns n here


def _terminate(_signum: int, _frame: object) -> None:
    """SIGTERM unwinds the run like an error, so ``finally`` blocks reap the workers."""
    sys.exit(TERMINATED)
