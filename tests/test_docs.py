"""The documentation holds: the site builds without a warning, the README stays short and its
links lead somewhere, the images the pages show are the ones scripts/figures.py makes,
run_all.py --help says what docs/experiments.md says, and the set-up says what it does."""

from __future__ import annotations

import hashlib
import html.parser
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def test_the_site_builds_strictly(tmp_path):
    """mkdocs build --strict: a broken link or anchor, a page missing from the nav, a bad
    mkdocstrings reference or a missing included file is a warning, and fails the build."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    proc = subprocess.run(
        # not --quiet: it drops the warnings before strict mode counts them
        [sys.executable, "-m", "mkdocs", "build", "--strict"]
        + ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,  # paths in mkdocs.yml must not depend on where it is built from
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.M), log
    # the API reference really rendered the package, not an empty page
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    assert 'id="loyaltysim.load_config"' in api and 'id="loyaltysim.run_one"' in api


class _Links(html.parser.HTMLParser):
    """The targets of a rendered page's links and images."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "img": "src"}.get(tag)
        self.targets += [v for k, v in attrs if k == wanted and v]


def links(markdown_file: Path) -> list[str]:
    """Every link and image target of a Markdown file, as Python-Markdown renders it (so
    that a path in a code block or a code span is not taken for a link)."""
    markdown = pytest.importorskip("markdown", reason="the docs extra is not installed")
    parser = _Links()
    parser.feed(markdown.markdown(markdown_file.read_text(), extensions=["tables"]))
    return parser.targets


def local(target: str) -> bool:
    return not re.match(r"^([a-z][a-z0-9+.-]*:|#)", target)  # not http:, mailto:, #anchor


def test_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines: move detail to docs/"


def test_every_relative_link_of_the_readme_exists():
    targets = [t for t in links(README) if local(t)]
    assert len(targets) >= 10  # the README does link to the docs pages
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).exists()]
    assert missing == [], f"README.md links to files that do not exist: {missing}"


def test_the_link_check_sees_links_and_ignores_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[a](docs/a.md) ![b](docs/b.png) [c](https://example.org) [d](#here)\n\n"
        "`[not](a-link.md)`\n\n```\n[not](either.md)\n```\n"
    )
    assert [t for t in links(page) if local(t)] == ["docs/a.md", "docs/b.png"]


def _figures_script() -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "figures.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_every_image_the_pages_show_is_made_by_the_figure_script():
    made = set(re.findall(r"^docs/(\S+\.png):", _figures_script(), re.M))
    shown = {
        (page.parent / t).resolve().relative_to(DOCS).as_posix()
        for page in DOCS.rglob("*.md")
        for t in links(page)
        if local(t) and t.endswith(".png")
    }
    assert shown and shown <= made, f"shown but not regenerated: {sorted(shown - made)}"
    assert all((DOCS / name).is_file() for name in made)


# ----------------------------------------------------------- run_all.py --help vs the docs
def _flat(text: str) -> str:
    return " ".join(text.split())


def test_run_all_help_says_what_the_docs_say_about_launcher_and_jobs():
    helptext = _flat(
        subprocess.run(
            [sys.executable, str(ROOT / "experiments" / "run_all.py"), "--help"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    docs = _flat((DOCS / "experiments.md").read_text())
    config = (ROOT / "conf" / "config.yaml").read_text()
    local_yaml = (ROOT / "conf" / "hydra" / "launcher" / "local.yaml").read_text()

    configured = re.search(r"override hydra/launcher: (\w+)", config)[1]
    n_jobs = re.search(r"^n_jobs: (\d+)", local_yaml, re.M)[1]
    in_help = re.search(r"--launcher NAME .*?default: (\w+) ", helptext)[1]
    in_docs = re.search(r"`--launcher NAME`.*?\(default: `(\w+)`", docs)[1]
    assert in_help == in_docs == configured

    jobs_help = re.search(r"--jobs N .*?for the (\w+) and (\w+) launchers only", helptext)
    jobs_docs = re.search(r"`--jobs N`.*?for the `(\w+)` and `(\w+)` launchers only", docs)
    assert jobs_help.groups() == jobs_docs.groups() and configured in jobs_help.groups()
    assert f"(local: {n_jobs})" in helptext and f"(`local`: {n_jobs})" in docs


# ------------------------------------------------------------------ the set-up's messages
FAKE_PYTHON = """#!/usr/bin/env bash
# A stand-in for python3 and .venv/bin/python: records each call, after what was said.
[ "$*" = --version ] && { echo "Python 3.12.9"; exit 0; }
echo "CALL $*" >&2
case "$1 $2" in
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  "-m pip") [[ " $* " == *" --quiet "* ]] && exit 0  # as pip: nothing on stdout
            echo "Collecting mesa"; echo "Requirement already satisfied: numpy"
            echo "  Downloading a-wheel.whl"; echo "Successfully installed mesa"
            # PIP_FAILS: the project's install fails (after printing), as on a network error
            [[ -n "${PIP_FAILS:-}" && " $* " == *" -e "* ]] && exit 1 ;;
esac
exit 0
"""


def _bootstrap(tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "source scripts/_bootstrap.sh && echo JOB"],
        cwd=tree,
        env={**os.environ, "PYTHON": str(tree / "fakepython"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path):
    """A copy of the set-up script and pyproject.toml, with a fake python that records calls."""
    (tmp_path / "scripts").mkdir()
    for name in ("scripts/_bootstrap.sh", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    fake = tmp_path / "fakepython"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def test_the_set_up_says_each_step_before_it_and_shows_pip_moving(tree):
    first = _bootstrap(tree)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "JOB\n"  # the job's own output stays clean: messages go to stderr
    log = first.stderr.splitlines()
    venv = next(i for i, s in enumerate(log) if s.startswith("CALL -m venv"))
    pips = [i for i, s in enumerate(log) if s.startswith("CALL -m pip")]
    assert "creating .venv with Python 3.12.9" in log[venv - 1]
    assert len(pips) == 2 and "installing loyaltysim and its extras" in log[pips[1] - 1]
    assert "about 2 minutes" in log[pips[1] - 1]
    main = log[pips[1]]
    assert "--quiet" not in main and "--progress-bar off" in main and "docs" in main
    # pip's per-package lines come through, its noise does not
    assert "Collecting mesa" in log and "Successfully installed mesa" in log
    assert not any("Downloading" in s or "already satisfied" in s for s in log)
    stamp = (tree / ".venv" / ".loyaltysim-installed").read_text().strip()
    assert stamp == hashlib.sha256((tree / "pyproject.toml").read_bytes()).hexdigest()

    again = _bootstrap(tree)  # installed, pyproject.toml unchanged: silent, no pip
    assert again.returncode == 0 and again.stdout == "JOB\n"
    assert "CALL -m" not in again.stderr and "set-up" not in again.stderr


def test_a_failed_install_stops_the_set_up_and_says_so(tree):
    failed = _bootstrap(tree, PIP_FAILS="1")
    assert failed.returncode != 0 and "JOB" not in failed.stdout
    assert "installing failed" in failed.stderr
    assert not (tree / ".venv" / ".loyaltysim-installed").exists()  # retried next time
