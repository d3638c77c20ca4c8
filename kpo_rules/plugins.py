"""The plugin manager factory and a loader that survives broken plugins.

pluggy's own ``load_setuptools_entrypoints`` calls ``ep.load()`` bare, so one
plugin that raises on import takes the whole CLI down (llm #1280, pytest
#1479). We load each entry point inside its own ``try`` and keep a record of
what failed, naming the plugin and its distribution.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from kpo_rules import hookspecs
from kpo_rules._version import __version__
from kpo_rules.entry_points import EntryPoint, entry_points
from kpo_rules.errors import HookApiError
from kpo_rules.model import PluginInfo
from kpo_rules.plugin_api import PluginMeta

if TYPE_CHECKING:
    from kpo_rules.incidents import PluginFailure

ENTRY_POINT_GROUP = "kpo_rules"
DISABLE_ENV = "KPO_RULES_DISABLE_PLUGINS"


@dataclass(slots=True)
class PluginSet:
    """A plugin manager plus what we learnt while filling it."""

    manager: pluggy.PluginManager
    infos: list[PluginInfo] = field(default_factory=list)
    failures: list[PluginFailure] = field(default_factory=list)
    blocked: frozenset[str] = frozenset()
    #: Plugin content (catalogues, compiled rules), loaded once per plugin set on first use.
    content_cache: Any = None

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def names(self) -> list[str]:
        return [info.name for info in self.infos]

    def register(self, plugin: object, name: str, distribution: str | None = None,
                 version: str | None = None) -> None:
        """Register ``plugin`` under ``name``; a failure is recorded, never raised."""
        try:
            self.manager.register(plugin, name=name)
            meta = _plugin_meta(self.manager, plugin)
        except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is a load error
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            self.failures.append(_failure(name, distribution, exc))
            return
        hooks = tuple(sorted(c.name for c in self.manager.get_hookcallers(plugin) or ()))
        self.infos.append(
            PluginInfo(
                name=name,
                distribution=distribution,
                version=version,
                hooks=hooks,
                facts_as_of=meta.facts_as_of if meta else None,
            )
        )

    def unregister(self, name: str) -> None:
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)
        self.infos = [i for i in self.infos if i.name != name]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _failure(name: str, distribution: str | None, exc: BaseException) -> PluginFailure:
    """What a plugin that raised while importing or registering is reported as."""
    from kpo_rules.incidents import PluginFailure  # noqa: PLC0415 - only when one fails

    if isinstance(exc, HookApiError):
        supported = ", ".join(map(str, sorted(exc.supported)))
        return PluginFailure(
            name=name, distribution=distribution, error=_describe(exc), kind="api-version",
            why=f"the plugin was written for hook API {exc.wanted}; kpo-rules {__version__} "
                f"supports hook API version(s) {supported}",
            fix=f"if the plugin works with hook API {hookspecs.HOOK_API_VERSION}, set "
                "PluginMeta(api_version=kpo_rules.hookspecs.HOOK_API_VERSION); otherwise "
                f"install a kpo-rules that supports hook API {exc.wanted}")
    return PluginFailure(name=name, distribution=distribution, error=_describe(exc),
                         kind="load", why=_describe(exc))


def _plugin_meta(manager: pluggy.PluginManager, plugin: object) -> PluginMeta | None:
    """Call only this plugin's ``kpo_plugin_meta`` and check its hook API version."""
    impl = getattr(plugin, "kpo_plugin_meta", None)
    if impl is None:
        return None
    meta = impl()
    if not isinstance(meta, PluginMeta):
        raise TypeError("kpo_plugin_meta() must return kpo_rules.PluginMeta")
    if meta.api_version not in hookspecs.SUPPORTED_HOOK_API_VERSIONS:
        raise HookApiError(meta.api_version, hookspecs.SUPPORTED_HOOK_API_VERSIONS)
    return meta


def blocked_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
    """Plugin names listed (comma or space separated) in ``KPO_RULES_DISABLE_PLUGINS``."""
    raw = (environ if environ is not None else dict(os.environ)).get(DISABLE_ENV, "")
    return frozenset(p for p in raw.replace(",", " ").split() if p)


def create_plugin_set(
    *,
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
    extra: Iterable[tuple[str, object]] = (),
    installed: Iterable[EntryPoint] | None = None,
) -> PluginSet:
    """A fresh plugin manager (never a module global), filled from entry points.

    ``blocked`` names match an entry-point name or a distribution name;
    ``KPO_RULES_DISABLE_PLUGINS`` adds to them. ``extra`` registers in-process
    plugins (tests, the plugin-author kit) after the installed ones. ``installed`` stands
    for the installed entry points (the package build, which ships its plugins' content,
    names its own).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    block = frozenset(blocked) | blocked_from_env()
    extra = list(extra)
    replaced = {name for name, _ in extra}
    plugins = PluginSet(manager=manager, blocked=block)
    if load_entrypoints:
        for ep in entry_points(ENTRY_POINT_GROUP) if installed is None else installed:
            dist_name = ep.distribution
            if ep.name in block or ep.name in replaced or (dist_name and dist_name in block):
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the run
                plugins.failures.append(_failure(ep.name, dist_name, exc))
                continue
            plugins.register(module, ep.name, dist_name, ep.version)
    for name, plugin in extra:
        version = getattr(plugin, "__version__", None)
        plugins.register(plugin, name, None, version if isinstance(version, str) else None)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        bad = exc.plugin
        name = manager.get_name(bad) or repr(bad)
        from kpo_rules.incidents import PluginFailure  # noqa: PLC0415

        plugins.failures.append(PluginFailure(name=name, distribution=None, error=str(exc),
                                              kind="load", why=str(exc)))
        plugins.unregister(name)
    return plugins
