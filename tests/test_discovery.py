"""A real repository: which files a run checks, what it skips and says so, and the runs
that must not pass CI silently (nothing checked, unknown selectors)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import DATA, write

MINIMAL = (DATA / "clean" / "minimal.yaml").read_text()
# Ours but broken: it declares itself, so it is checked and reported, never skipped.
BROKEN_OURS = "apiVersion: kpo-rules/v1\nkind: Engagement\nmetadata: {id: [\n"
WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: []\n"
COMPOSE = "services:\n  db:\n    image: postgres:16\n    ports: ['5432:5432']\n"
MKDOCS = ("site_name: Docs\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
          "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n")
HELM = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  labels:\n    {{- include \"chart.labels\" . | nindent 4 }}\n")
K8S = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"


def engagement(eid: str, assignee: str = "s-1") -> str:
    return MINIMAL.replace("minimal-clean", eid).replace("assignees: [s-1]",
                                                         f"assignees: [{assignee}]")


def put(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        write(root, name, content)


def report_of(result) -> dict:
    return json.loads(result.stdout)


def files_with_findings(result) -> set[str]:
    return {f["file"] for f in report_of(result)["findings"]}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git repository with engagements beside everything else a repository holds."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    put(tmp_path, {
        "engagements/a.yaml": engagement("a"),
        "engagements/b.YML": engagement("b", "s-9"),  # any case; one finding
        ".github/workflows/ci.yml": WORKFLOW,
        "docker-compose.yml": COMPOSE,
        ".pre-commit-config.yaml": "repos: []\n",
        "mkdocs.yml": MKDOCS,
        "chart/templates/service.yaml": HELM,
        "k8s/deploy.yaml": K8S,
        ".venv/lib/site.yaml": BROKEN_OURS,
        "env2/pyvenv.cfg": "home = /usr/bin\n",
        "env2/lib/x.yaml": BROKEN_OURS,
        "node_modules/pkg/x.yaml": BROKEN_OURS,
        ".git/config.yaml": BROKEN_OURS,
        "build/out.yaml": BROKEN_OURS,
        "empty.yaml": "",
        "README.md": "# A project\n",
    })
    return tmp_path


# --------------------------------------------------------------------------- a real repository


def test_a_repository_checks_only_the_engagements(repo, run_cli):
    result = run_cli("check", "--format", "json", ".")
    report = report_of(result)
    assert files_with_findings(result) == {"engagements/b.YML"}
    assert [f["rule"] for f in report["findings"]] == ["KPO-REF-001"]
    assert result.exit_code == 1
    skipped = {s["path"]: s["reason"] for s in report["run"]["skipped"]}
    assert set(skipped) == {".github/workflows/ci.yml", "docker-compose.yml",
                            ".pre-commit-config.yaml", "mkdocs.yml",
                            "chart/templates/service.yaml", "k8s/deploy.yaml", "empty.yaml"}
    assert skipped["mkdocs.yml"].startswith("not a kpo-rules file: not readable YAML")
    assert skipped["k8s/deploy.yaml"].startswith("not a kpo-rules file: no document declares")
    assert report["summary"]["skipped"] == 7 and report["summary"]["files"] == 2


def test_show_files_lists_what_is_checked_and_why_the_rest_is_not(repo, run_cli):
    result = run_cli("check", "--show-files", ".")
    assert result.exit_code == 0
    head, _, tail = result.stdout.partition("\nskipped:\n")
    assert head.split() == ["engagements/a.yaml", "engagements/b.YML"]
    lines = tail.splitlines()
    for expected in ("  .venv/  (default exclude '.venv')",
                     "  env2/  (a virtualenv (pyvenv.cfg))",
                     "  node_modules/  (default exclude 'node_modules')",
                     "  .git/  (default exclude '.git')",
                     "  build/  (default exclude 'build')"):
        assert expected in lines
    assert any(line.startswith("  chart/templates/service.yaml  (not a kpo-rules file")
               for line in lines)


def test_a_file_of_ours_that_is_broken_is_reported_not_skipped(repo, run_cli):
    put(repo, {"engagements/broken.yaml": BROKEN_OURS,
               "engagements/flow.yaml": '{apiVersion: "kpo-rules/v1", kind: Engagement'})
    result = run_cli("check", "--format", "json", "engagements")
    rules = {(f["file"], f["rule"]) for f in report_of(result)["findings"]}
    assert ("engagements/broken.yaml", "KPO-SYN-001") in rules
    assert ("engagements/flow.yaml", "KPO-SYN-001") in rules


def test_a_file_named_explicitly_is_checked_as_named(repo, run_cli):
    result = run_cli("check", "--format", "json", "mkdocs.yml", ".venv/lib/site.yaml")
    assert files_with_findings(result) == {"mkdocs.yml", ".venv/lib/site.yaml"}
    assert result.exit_code == 1


def test_force_exclude_treats_named_files_like_walked_ones(repo, run_cli):
    result = run_cli("check", "--format", "json", "--force-exclude", "mkdocs.yml",
                     ".venv/lib/site.yaml", "engagements/a.yaml", "README.md")
    report = report_of(result)
    assert report["summary"]["files"] == 1 and report["findings"] == []
    assert {s["path"]: s["reason"] for s in report["run"]["skipped"]} == {
        "mkdocs.yml": "not a kpo-rules file: not readable YAML, and its text declares no "
                      "apiVersion kpo-rules/... or kind Engagement or Roster",
        ".venv/lib/site.yaml": "default exclude '.venv'",
        "README.md": "not a .yaml or .yml file",
    }
    assert result.exit_code == 0


# --------------------------------------------------------------------------- excludes


def test_exclude_patterns_reach_any_depth(repo, run_cli):
    put(repo, {".kpo-rules.toml": 'extend-exclude = ["drafts/**", "engagements/old-*.yaml"]\n',
               "drafts/a/b/c.yaml": BROKEN_OURS, "engagements/old-1.yaml": BROKEN_OURS})
    result = run_cli("check", "--format", "json", ".")
    assert files_with_findings(result) == {"engagements/b.YML"}
    skipped = {s["path"]: s["reason"] for s in report_of(result)["run"]["skipped"]}
    assert skipped["engagements/old-1.yaml"] == "exclude pattern 'engagements/old-*.yaml'"
    assert skipped["drafts/"] == "exclude pattern 'drafts/**'"
    named = run_cli("check", "--format", "json", "--force-exclude", "drafts/a/b/c.yaml")
    assert report_of(named)["run"]["skipped"] == [
        {"path": "drafts/a/b/c.yaml", "reason": "exclude pattern 'drafts/**'"}]


def test_exclude_replaces_the_defaults_and_extend_exclude_adds(repo, run_cli):
    put(repo, {".kpo-rules.toml": 'exclude = ["drafts/**"]\n', "drafts/a/b/c.yaml": BROKEN_OURS})
    found = files_with_findings(run_cli("check", "--format", "json", "."))
    assert "drafts/a/b/c.yaml" not in found
    assert "node_modules/pkg/x.yaml" in found  # the defaults were replaced (as in ruff)
    found = files_with_findings(run_cli("check", "--format", "json", "--extend-exclude",
                                        "node_modules,.venv", "--exclude", "nothing", "."))
    assert "node_modules/pkg/x.yaml" not in found and "drafts/a/b/c.yaml" in found
    assert "env2/lib/x.yaml" in found  # no defaults, no virtualenv detection either


def test_gitignore_at_every_level_and_info_exclude(repo, run_cli):
    put(repo, {".gitignore": "secret*.yaml\n",
               "engagements/.gitignore": "local/\n!secret-ok.yaml\n",
               ".git/info/exclude": "mine.yaml\n",
               "engagements/secret.yaml": BROKEN_OURS, "engagements/secret-ok.yaml": BROKEN_OURS,
               "engagements/local/x.yaml": BROKEN_OURS, "engagements/mine.yaml": BROKEN_OURS})
    result = run_cli("check", "--format", "json", "engagements")
    assert files_with_findings(result) == {"engagements/b.YML", "engagements/secret-ok.yaml"}
    skipped = {s["path"]: s["reason"] for s in report_of(result)["run"]["skipped"]}
    assert skipped == {"engagements/secret.yaml": ".gitignore 'secret*.yaml'",
                       "engagements/local/": "engagements/.gitignore 'local/'",
                       "engagements/mine.yaml": ".git/info/exclude 'mine.yaml'"}
    every = files_with_findings(run_cli("check", "--format", "json", "--no-respect-gitignore",
                                        "engagements"))
    assert {"engagements/secret.yaml", "engagements/local/x.yaml",
            "engagements/mine.yaml"} <= every


def test_gitignore_counts_only_inside_a_repository(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    put(tmp_path, {".gitignore": "*.yaml\n", "e.yaml": BROKEN_OURS})
    assert files_with_findings(run_cli("check", "--format", "json", ".")) == {"e.yaml"}


def test_a_directory_named_explicitly_is_walked_even_when_excluded(repo, run_cli):
    result = run_cli("check", "--format", "json", "build")
    assert files_with_findings(result) == {"build/out.yaml"}


# --------------------------------------------------------------------------- the walk itself


def test_symlinked_directories_are_followed_once_and_loops_end(repo, run_cli):
    (repo / "engagements" / "loop").symlink_to(repo / "engagements")
    (repo / "linked").symlink_to(repo / "engagements")
    (repo / "engagements" / "alias.yaml").symlink_to(repo / "engagements" / "b.YML")
    (repo / "engagements" / "dangling.yaml").symlink_to(repo / "nowhere.yaml")
    result = run_cli("check", "--format", "json", ".")
    report = report_of(result)
    # Once, under the name met first in sorted order (alias.yaml before b.YML).
    assert [f["file"] for f in report["findings"]] == ["engagements/alias.yaml"]
    skipped = {s["path"]: s["reason"] for s in report["run"]["skipped"]}
    assert skipped["engagements/loop/"] == "same directory as engagements/"
    assert skipped["linked/"] == "same directory as engagements/"
    assert skipped["engagements/dangling.yaml"] == "a dangling symbolic link"
    assert skipped["engagements/b.YML"] == "same file as engagements/alias.yaml"


def test_an_unreadable_directory_is_a_finding(repo, run_cli, monkeypatch):
    from kpo_rules.load import discovery

    real = os.scandir

    def scandir(path):
        if Path(path).name == "k8s":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    result = run_cli("check", "--format", "json", ".")
    (finding,) = [f for f in report_of(result)["findings"] if f["file"] == "k8s"]
    assert finding["rule"] == "KPO-SYN-001"
    assert finding["message"].startswith("cannot list the directory: Permission denied")
    assert result.exit_code == 1


# --------------------------------------------------------------------------- stdin


def test_stdin_filename_names_standard_input(repo, run_cli):
    result = run_cli("check", "--format", "json", "--stdin-filename", "engagements/new.yaml",
                     input=engagement("n", "s-7"))
    assert files_with_findings(result) == {"engagements/new.yaml"}
    put(repo, {".kpo-rules.toml": 'extend-exclude = ["drafts/"]\n'})
    excluded = run_cli("check", "--format", "json", "--stdin-filename", "drafts/new.yaml", "-",
                       input=BROKEN_OURS)
    assert report_of(excluded)["findings"] == []
    assert report_of(excluded)["run"]["skipped"] == [
        {"path": "drafts/new.yaml", "reason": "exclude pattern 'drafts/'"}]
    assert excluded.exit_code == 0


# --------------------------------------------------------------------------- never silently weaker


@pytest.mark.parametrize(("args", "message"), [
    (("--select", "NOPE"), "--select: unknown rule or prefix 'NOPE'"),
    (("--select", "LEG-SUP-01"), "did you mean 'LEG-SUP-001'?"),
    (("--ignore", "COM-SWW"), "did you mean 'COM-SW'?"),
])
def test_an_unknown_selector_is_a_usage_error(repo, run_cli, args, message):
    result = run_cli("check", *args, "engagements")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""  # refused before checking anything


def test_an_unknown_selector_in_the_config_names_the_file_and_key(repo, run_cli):
    put(repo, {".kpo-rules.toml": 'ignore = ["COM-SW-01"]\n'})
    result = run_cli("check", "engagements")
    assert result.exit_code == 2
    assert ".kpo-rules.toml: ignore: unknown rule or prefix 'COM-SW-01'; did you mean " \
           "'COM-SW-001'?" in result.stderr


def test_nothing_to_check_fails(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run_cli("check", "empty")
    assert result.exit_code == 2
    assert "nothing to check: no .yaml or .yml file found" in result.stderr
    put(tmp_path, {"repo/.github/workflows/ci.yml": WORKFLOW})
    result = run_cli("check", "--format", "json", "repo")
    assert result.exit_code == 2
    assert "nothing to check: 1 path skipped (--show-files lists them)" in result.stderr
    assert report_of(result)["run"]["skipped"][0]["path"] == "repo/.github/workflows/ci.yml"


def test_a_changed_files_run_with_nothing_of_ours_passes_with_a_note(repo, run_cli):
    result = run_cli("check", "--force-exclude", ".github/workflows/ci.yml", "docker-compose.yml")
    assert result.exit_code == 0
    assert "nothing to check: the 2 files named were skipped" in result.stderr


def test_config_discovery_stops_at_the_repository_root(tmp_path, run_cli, monkeypatch):
    put(tmp_path, {".kpo-rules.toml": 'ignore = ["KPO-REF"]\n',
                   "project/engagements/e.yaml": engagement("e", "s-9")})
    monkeypatch.chdir(tmp_path / "project")
    assert run_cli("check", "engagements").exit_code == 0  # the parent's config applies
    (tmp_path / "project" / ".git").mkdir()
    result = run_cli("check", "--format", "json", "engagements")
    assert result.exit_code == 1  # a repository's CI is its own
    assert report_of(result)["run"]["config"] is None


# --------------------------------------------------------------------------- rosters


def roster_project(root: Path) -> None:
    eng, staff = MINIMAL.split("staff:\n")
    put(root, {"engagements/e.yaml": eng,
               "rosters/pune.yaml": "apiVersion: kpo-rules/v1\nkind: Roster\n"
                                    "metadata: {id: pune}\nstaff:\n" + staff})


def test_config_rosters_are_loaded_whatever_paths_are_named(repo, run_cli):
    roster_project(repo)
    alone = run_cli("check", "--format", "json", "engagements/e.yaml")
    assert [f["rule"] for f in report_of(alone)["findings"]] == ["KPO-REF-001"]
    put(repo, {".kpo-rules.toml": 'rosters = ["rosters/"]\n'})
    result = run_cli("check", "--format", "json", "engagements/e.yaml")
    assert report_of(result)["findings"] == [] and result.exit_code == 0
    assert report_of(result)["summary"]["files"] == 2
    # Named as well, the roster is read once (not "staff defined on two rosters").
    twice = run_cli("check", "--format", "json", "engagements/e.yaml", "rosters")
    assert report_of(twice)["findings"] == []


def test_a_missing_roster_path_is_a_config_error(repo, run_cli):
    put(repo, {".kpo-rules.toml": 'rosters = ["staff/"]\n'})
    result = run_cli("check", "engagements")
    assert result.exit_code == 2
    assert ".kpo-rules.toml: rosters: 'staff/': no such file or directory" in result.stderr


# --------------------------------------------------------------------------- pre-commit


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    """One hook environment for the module's runs: installing it is the slow part."""
    return tmp_path_factory.mktemp("pre-commit-home")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def try_repo(root: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        ["pre-commit", "try-repo", str(Path(__file__).parent.parent), "kpo-rules"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_pre_commit_checks_changed_engagements_with_the_rosters(tmp_path, pre_commit_home):
    root = tmp_path / "project"
    root.mkdir()
    roster_project(root)
    put(root, {".kpo-rules.toml": 'rosters = ["rosters/"]\n',
               ".github/workflows/ci.yml": WORKFLOW})
    git(root, "init", "-q")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "start")

    # Only the engagement changed: its staff are in rosters/, which the hook was not given.
    with (root / "engagements" / "e.yaml").open("a") as handle:
        handle.write("# reviewed\n")
    git(root, "add", "engagements/e.yaml")
    run = try_repo(root, pre_commit_home)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kpo-rules" in run.stdout and "Passed" in run.stdout

    # Only a workflow changed: nothing of ours among the changed files, and that is fine.
    git(root, "reset", "-q", "--hard")
    with (root / ".github" / "workflows" / "ci.yml").open("a") as handle:
        handle.write("# tweak\n")
    git(root, "add", ".github/workflows/ci.yml")
    run = try_repo(root, pre_commit_home)
    assert run.returncode == 0, run.stdout + run.stderr

    # The hook does fail a commit that breaks an engagement.
    git(root, "reset", "-q", "--hard")
    text = (root / "engagements" / "e.yaml").read_text().replace("[s-1]", "[s-9]")
    (root / "engagements" / "e.yaml").write_text(text)
    git(root, "add", "engagements/e.yaml")
    run = try_repo(root, pre_commit_home)
    assert run.returncode == 1
    assert "KPO-REF-001" in run.stdout


def test_files_not_ours_are_skipped_alike_in_workers(repo, run_cli):
    for i in range(40):
        put(repo, {f"many/e{i:02d}.yaml": engagement(f"m{i}", "s-9" if i % 3 else "s-1"),
                   f"many/w{i:02d}.yml": WORKFLOW})
    one = run_cli("check", "--format", "json", "--jobs", "1", "many")
    two = run_cli("check", "--format", "json", "--jobs", "2", "many")
    assert one.stdout == two.stdout
    assert report_of(one)["summary"]["files"] == 40
    assert report_of(one)["summary"]["skipped"] == 40


def test_a_plugins_data_is_skipped_but_an_unknown_kind_of_ours_is_reported(repo, run_cli):
    put(repo, {"plugin/rules/x.yaml": "apiVersion: kpo-rules/v1\nkind: RuleFile\nrules: []\n",
               "plugin/catalogue/tasks.yaml": "apiVersion: kpo-rules/v1\nkind: TaskCatalogue\n",
               "engagements/typo.yaml": "apiVersion: kpo-rules/v1\nkind: Engagment\n"})
    result = run_cli("check", "--format", "json", ".")
    skipped = {s["path"]: s["reason"] for s in report_of(result)["run"]["skipped"]}
    assert skipped["plugin/rules/x.yaml"] == ("a kpo-rules plugin's data (kind RuleFile): "
                                              "`kpo-rules test` checks it")
    assert "plugin/catalogue/tasks.yaml" in skipped
    typo = [f for f in report_of(result)["findings"] if f["file"] == "engagements/typo.yaml"]
    assert [f["rule"] for f in typo] == ["KPO-SCH-001"]
