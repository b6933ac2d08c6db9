"""tools/mutate.py: which files a target mutates, with which tests, and how a run is scored."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mutate = _tool()

LISTING = """\
    openrehab.motion.metrics.x_sparc__mutmut_1: killed
    openrehab.motion.metrics.x_sparc__mutmut_2: survived
    openrehab.motion.metrics.x_sparc__mutmut_3: survived
    openrehab.motion.metrics.x_ldlj__mutmut_1: timeout
    openrehab.motion.metrics.x_ldlj__mutmut_2: no tests
    openrehab.motion.metrics.x_ldlj__mutmut_3: not checked
"""


def test_a_package_mutates_its_files_and_a_module_only_itself() -> None:
    assert mutate.target_parts("program") == ("src/openrehab/program/*", "program")
    assert mutate.target_parts("web/routes") == ("src/openrehab/web/routes/*", "web")
    assert mutate.target_parts("motion/metrics.py") == ("src/openrehab/motion/metrics.py", "motion")
    for unknown in ("nothing", "motion/nothing.py"):
        with pytest.raises(SystemExit, match=r"no (package|module)"):
            mutate.target_parts(unknown)


def test_score_counts_killed_and_timeouts_over_the_judged_mutants() -> None:
    result = mutate.score(LISTING, {})
    # 5 judged (the unchecked one is not): killed + timeout = 2
    assert (result["judged"], result["killed"], result["score_pct"]) == (5, 2, 40.0)
    assert result["survivors"] == [
        "survived: openrehab.motion.metrics.x_sparc__mutmut_2",
        "survived: openrehab.motion.metrics.x_sparc__mutmut_3",
        "no tests: openrehab.motion.metrics.x_ldlj__mutmut_2",
    ]


def test_a_reviewed_equivalent_mutant_counts_as_killed_and_is_not_listed() -> None:
    equivalent = {"openrehab.motion.metrics.x_sparc__mutmut_3": "same value either way"}
    result = mutate.score(LISTING, equivalent)
    assert (result["equivalent"], result["score_pct"]) == (1, 60.0)
    assert "survived: openrehab.motion.metrics.x_sparc__mutmut_3" not in result["survivors"]


def test_a_reviewed_equivalent_mutant_is_judged_without_being_run() -> None:
    """--retest and samples skip reviewed mutants; an unrun one still counts as equivalent."""
    equivalent = {"openrehab.motion.metrics.x_ldlj__mutmut_3": "same value either way"}
    result = mutate.score(LISTING, equivalent)
    assert (result["judged"], result["equivalent"], result["score_pct"]) == (6, 1, 50.0)


def test_every_equivalent_mutant_needs_a_reason(tmp_path: Path) -> None:
    listed = tmp_path / "equivalent.txt"
    listed.write_text("# header\nopenrehab.a.x_f__mutmut_1 log text only\n", encoding="utf-8")
    assert mutate.equivalent_mutants(listed) == {"openrehab.a.x_f__mutmut_1": "log text only"}
    listed.write_text("openrehab.a.x_f__mutmut_1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"equivalent\.txt:1: .* needs a one-line reason"):
        mutate.equivalent_mutants(listed)


def test_the_projects_equivalent_mutants_all_give_a_reason() -> None:
    assert all(mutate.equivalent_mutants().values())


def test_the_work_folder_runs_the_package_tests_without_slow_or_random_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutate, "WORK", tmp_path)
    workdir = mutate.write_workdir("web/routes")
    assert workdir == tmp_path / "web-routes"
    assert (workdir / "src").resolve() == ROOT / "src"
    config = tomllib.loads((workdir / "pyproject.toml").read_text(encoding="utf-8"))
    mutmut = config["tool"]["mutmut"]
    assert mutmut["only_mutate"] == ["src/openrehab/web/routes/*"]
    assert mutmut["pytest_add_cli_args_test_selection"] == mutate.TESTS_FOR["web"]
    assert "not browser and not shared_data" in mutmut["pytest_add_cli_args"]
    # pytest inside the work folder must behave as in the project
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["pytest"]["ini_options"] == project["tool"]["pytest"]["ini_options"]


def test_a_sample_is_reproducible_and_never_larger_than_the_population() -> None:
    names = [f"m{i}" for i in range(100)]
    first = mutate.choose_sample(names, 30, seed=13)
    assert first == mutate.choose_sample(list(reversed(names)), 30, seed=13)
    assert len(set(first)) == 30 and set(first) <= set(names)
    assert first != mutate.choose_sample(names, 30, seed=14)
    assert mutate.choose_sample(names[:5], 30, seed=13) == names[:5]


def test_the_wilson_interval_contains_the_estimate_and_narrows_with_the_sample() -> None:
    # Wilson (1927): 17 of 20 -> 64.0-94.8 %; 170 of 200 -> 79.4-89.3 %
    assert mutate.wilson_interval(17, 20) == (64.0, 94.8)
    assert mutate.wilson_interval(170, 200) == (79.4, 89.3)
    assert mutate.wilson_interval(0, 0) == (0.0, 100.0)


def test_the_work_folder_gets_changed_templates_and_data_files(tmp_path: Path) -> None:
    """mutmut refreshes only Python files in its copy: a changed template must be copied
    again (else every mutant is judged against the old page), Python files are left to
    mutmut, and an unchanged file is not copied twice."""
    root, workdir = tmp_path / "project", tmp_path / "work"
    template = root / "src" / "app" / "templates" / "page.html"
    code = root / "src" / "app" / "code.py"
    data = root / "tests" / "data.json"
    for path, text in ((template, "new page"), (code, "x = 1"), (data, "{}")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    stale = workdir / "mutants" / "src" / "app" / "templates" / "page.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old page")
    written = mutate.refresh_data_files(workdir, root)
    assert sorted(p.relative_to(workdir / "mutants").as_posix() for p in written) == [
        "src/app/templates/page.html",
        "tests/data.json",
    ]
    assert stale.read_text() == "new page"
    assert not (workdir / "mutants" / "src" / "app" / "code.py").exists()
    assert mutate.refresh_data_files(workdir, root) == []
