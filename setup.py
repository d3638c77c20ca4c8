"""Build kpo-rules' rule engine: durable-rules' C core, vendored in ``vendor/durable_rules``,
compiled into the extension module ``kpo_rules.engine.durable._engine``; and put the user
guide (``docs/``) into the package as ``kpo_rules/_docs``.

Everything else about the package is declared in ``pyproject.toml``; setuptools has no
declarative form for either, so they live here, with the one thing a user can act on: a
build without a C compiler or without Python's headers stops with a message that says
what to install, not with a compiler's traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import ClassVar

from setuptools import Command, Extension, setup
from setuptools.command.build import build
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

VENDOR = "vendor/durable_rules/src"
ENGINE_SOURCES = ("json", "rete", "state", "events", "regex")

WHAT_TO_INSTALL = """
{problem}
kpo-rules compiles its rule engine (durable-rules' C core) when it is installed, so it
needs a C compiler and the Python development headers. Install them, then run pip again:
  Debian, Ubuntu:  sudo apt install gcc python3-dev
  Fedora, RHEL:    sudo dnf install gcc python3-devel
  Alpine:          apk add gcc musl-dev python3-dev
  macOS:           xcode-select --install
  Windows:         "Desktop development with C++" of the Visual Studio Build Tools
"""


class BuildEngine(build_ext):
    """``build_ext`` that names the missing tool before compiling anything."""

    def build_extensions(self) -> None:
        problem = self._missing_tool()
        if problem:
            raise CompileError(WHAT_TO_INSTALL.format(problem=problem))
        try:
            super().build_extensions()
        except (CCompilerError, ExecError, PlatformError) as exc:
            raise CompileError(
                WHAT_TO_INSTALL.format(problem=f"Compiling failed: {exc}")
            ) from exc

    def _missing_tool(self) -> str:
        command = getattr(self.compiler, "compiler_so", None)  # unix compilers only
        if command and shutil.which(command[0]) is None:
            return f"No C compiler was found (tried {command[0]!r}; set CC to use another)."
        include = sysconfig.get_paths()["include"]
        if not os.path.exists(os.path.join(include, "Python.h")):
            return f"Python's headers are missing (no Python.h in {include})."
        return ""


class BuildWithDocs(build_py):
    """``build_py`` that adds ``docs/`` as ``kpo_rules/_docs``, for ``kpo-rules docs PAGE``
    after a pip install (an editable install reads ``docs/`` itself)."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            shutil.copytree("docs", Path(self.build_lib, "kpo_rules", "_docs"),
                            dirs_exist_ok=True)


class BuildShippedContent(Command):
    """Load the shipped plugins from the built package, as a check would, and write their
    content and compiled rule set into it (``kpo_rules/_shipped_content.json``): the first
    check after ``pip install`` then reads no plugin YAML (kpo_rules.shipped_content).
    An editable install reads its plugins' files; a build that cannot ship the content
    says why and goes on without it (checks then read the files)."""

    description = "ship the plugins' content and compiled rules inside the package"
    user_options: ClassVar[list[tuple[str, str | None, str]]] = []

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self) -> None:
        if self.editable_mode or self.build_lib is None:
            return
        egg_info = self.get_finalized_command("egg_info")
        points = Path(egg_info.egg_info, "entry_points.txt").resolve()
        built = Path(self.build_lib).resolve()
        # Run in the built package (``-m`` puts the working directory first on sys.path):
        # the checkout's kpo_rules has no engine built for this Python.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(built), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "KPO_RULES_NO_CACHE": "1", "KPO_RULES_DISABLE_PLUGINS": ""}
        done = subprocess.run(
            [sys.executable, "-m", "kpo_rules.shipped_content",
             str(built / "kpo_rules" / "_shipped_content.json"),
             self.distribution.get_name(), self.distribution.get_version(), str(points)],
            cwd=built, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            self.warn("the plugins' content is not shipped (a first check reads their "
                      f"files):\n{done.stderr.strip()}")


class BuildAll(build):
    """``build``, then the shipped content, which needs the built package and engine."""

    sub_commands: ClassVar = [*build.sub_commands, ("build_shipped_content", None)]


def engine_flags() -> list[str]:
    """durable-rules' own flags, plus gcc 14's and clang 16's defaults as errors on every
    compiler, so an older compiler fails the way a newer one would."""
    if os.name == "nt":
        return []
    return [
        "-std=c99",
        "-D_GNU_SOURCE",
        "-Werror=implicit-function-declaration",
        "-Werror=int-conversion",
        "-Werror=incompatible-pointer-types",
    ]


setup(
    ext_modules=[
        Extension(
            "kpo_rules.engine.durable._engine",
            sources=[
                f"{VENDOR}/rulespy/rules.c",
                *(f"{VENDOR}/rules/{name}.c" for name in ENGINE_SOURCES),
            ],
            include_dirs=[f"{VENDOR}/rules"],
            extra_compile_args=engine_flags(),
        )
    ],
    cmdclass={"build": BuildAll, "build_ext": BuildEngine, "build_py": BuildWithDocs,
              "build_shipped_content": BuildShippedContent},
)
