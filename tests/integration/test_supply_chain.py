"""What is installed is what was locked, and pip refuses anything else (decision 0068).

``requirements/build.txt`` (the build backend), ``run.txt`` and ``test.txt`` pin every
distribution with ``==`` and the sha256 of each of its files. ``make run`` and ``make
test`` install the build lock, then theirs, with ``--require-hashes --no-deps``, then the
project alone with ``--no-deps --no-build-isolation``. These tests read the lock files, pyproject.toml and the Makefile
(through ``make`` itself), compare the running venv with the test lock, build the SBOM
with the Makefile's own recipe, and have pip refuse a lock line whose hash was changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK_BUILD = ROOT / "requirements" / "build.txt"
LOCK_RUN = ROOT / "requirements" / "run.txt"
LOCK_TEST = ROOT / "requirements" / "test.txt"
LOCK_TOOL = ROOT / "requirements" / "lock-tool.txt"
BUILD_IN = ROOT / "requirements" / "build.in"
# What `make test` installs besides the base dependencies; the Makefile says the same.
LOCKED_EXTRAS = {"test", "redis", "risk", "ha", "release"}
# Installed but never locked: the installer itself (it comes with the venv) and the
# project, which installs from this checkout.
NOT_LOCKED = {"pip", "paywarden"}
SHA256 = re.compile(r"--hash=sha256:[0-9a-f]{64}")
RUN_TIMEOUT_S = 300
PIP_TIMEOUT_S = 180
REGISTRY = "https://pypi.org/simple"  # where `make lock` resolved (uv's default index)


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    hashes: tuple[str, ...]


def logical_lines(text: str) -> list[str]:
    """The lock's requirement lines, continuations joined, comments dropped."""
    lines = []
    for line in text.replace("\\\n", " ").splitlines():
        kept = re.sub(r"(^|\s)#.*", "", line).strip()
        if kept:
            lines.append(kept)
    return lines


def problems_of(text: str) -> list[str]:
    """Each line of a lock that is not ``name==version`` with one or more sha256 hashes."""
    problems = []
    for line in logical_lines(text):
        spec, _, rest = line.partition(" --hash=")
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            problems.append(f"not a requirement: {line[:80]!r}")
            continue
        pinned = [s for s in requirement.specifier if s.operator == "=="]
        if len(pinned) != 1 or len(requirement.specifier) != 1 or requirement.url:
            problems.append(f"not pinned with ==: {spec!r}")
        if not rest or SHA256.sub("", "--hash=" + rest).strip():
            problems.append(f"not only sha256 hashes: {line[:80]!r}")
    return problems


def pins_of(text: str) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for line in logical_lines(text):
        spec = line.partition(" --hash=")[0]
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        version = next(iter(requirement.specifier)).version
        pins[name] = Pin(name, version, tuple(h[len("--hash="):] for h in SHA256.findall(line)))
    return pins


def unmet(requirements: list[str], pins: dict[str, Pin]) -> list[str]:
    """Each requirement the pins leave out, or pin at a version outside its range."""
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            missing.append(f"{text}: not locked")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            missing.append(f"{text}: locked at {pin.version}")
    return missing


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def base_requirements() -> list[str]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    build = pyproject()["build-system"]
    assert isinstance(build, dict)
    return [*project["dependencies"], *build["requires"]]


def extra_requirements() -> list[str]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return [r for extra in sorted(LOCKED_EXTRAS) for r in project["optional-dependencies"][extra]]


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


# (a) pinned and hashed


@pytest.mark.parametrize("lock", [LOCK_BUILD, LOCK_RUN, LOCK_TEST, LOCK_TOOL],
                         ids=lambda p: p.name)
def test_every_line_of_a_lock_is_pinned_with_sha256_hashes(lock: Path) -> None:
    text = lock.read_text()
    assert problems_of(text) == []
    assert len(pins_of(text)) >= 1
    assert text.startswith("# This file was autogenerated by uv via the following command:")


@pytest.mark.parametrize("line", [
    "fastapi>=0.115 --hash=sha256:" + "a" * 64,
    "fastapi==0.165.0",
    "fastapi==0.165.0 --hash=md5:" + "a" * 32,
    "fastapi==0.165.0 --hash=sha256:" + "a" * 63,
    "-e .",
    "fastapi @ https://example.org/fastapi.whl --hash=sha256:" + "a" * 64,
])
def test_a_loose_or_unhashed_line_is_caught(line: str) -> None:
    good = "rich==15.0.0 \\\n    --hash=sha256:" + "b" * 64 + "\n    # via paywarden\n"
    assert problems_of(good) == []
    assert problems_of(good + line + "\n") != []


# (b) everything pyproject.toml names is locked, in its range


def test_the_run_lock_holds_every_base_dependency_and_the_build_backend() -> None:
    assert unmet(base_requirements(), pins_of(LOCK_RUN.read_text())) == []


def test_the_test_lock_holds_the_base_dependencies_and_the_locked_extras() -> None:
    assert unmet(base_requirements() + extra_requirements(), pins_of(LOCK_TEST.read_text())) == []


def test_a_dependency_missing_from_the_lock_or_outside_its_range_is_caught() -> None:
    pins = pins_of(LOCK_RUN.read_text())
    assert unmet(["not-a-real-dependency>=1"], pins) == ["not-a-real-dependency>=1: not locked"]
    assert unmet([f"fastapi>{pins['fastapi'].version}"], pins) != []


def test_the_build_backend_is_locked_in_the_range_pyproject_toml_builds_with() -> None:
    build = pyproject()["build-system"]
    assert isinstance(build, dict)
    wanted = {str(Requirement(r)) for r in build["requires"]}
    assert {str(Requirement(line)) for line in logical_lines(BUILD_IN.read_text())} == wanted
    assert unmet(build["requires"], pins_of(LOCK_BUILD.read_text())) == []


@pytest.mark.parametrize("lock", [LOCK_BUILD, LOCK_RUN], ids=lambda p: p.name)
def test_a_lock_names_the_same_versions_as_the_test_lock(lock: Path) -> None:
    pins, test = pins_of(lock.read_text()), pins_of(LOCK_TEST.read_text())
    assert {name: pin.version for name, pin in pins.items() if test.get(name) != pin} == {}


def test_the_makefile_locks_the_extras_the_tests_expect() -> None:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^LOCKED_EXTRAS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert found is not None
    assert set(found.group(1).split()) == LOCKED_EXTRAS
    header = LOCK_TEST.read_text().splitlines()[1]
    assert all(f"--extra {extra}" in header for extra in LOCKED_EXTRAS), header


# (c) what is installed is what was locked


def test_every_installed_distribution_is_in_the_test_lock_at_its_version() -> None:
    pins = pins_of(LOCK_TEST.read_text())
    here = {name: v for name, v in installed().items() if name not in NOT_LOCKED}
    strays = {name: v for name, v in here.items() if name not in pins or pins[name].version != v}
    assert strays == {}, ("installed, but not as locked (a venv from before the lock? "
                          "rm -rf .venv && make test)")
    assert sorted(set(pins) - set(here)) == []  # locked but not installed


def test_the_installed_distributions_need_nothing_the_lock_left_out() -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True,
                          text=True, timeout=PIP_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# (d) the Makefile installs by hash only


def make(*args: str, venv: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), f"VENV={venv}",
                           *args], capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          check=False)


@pytest.mark.parametrize("stamp, lock", [(".installed-run", "requirements/run.txt"),
                                         (".installed-test", "requirements/test.txt")])
def test_make_installs_the_venv_from_the_lock_by_hash_and_nothing_else(
        stamp: str, lock: str, tmp_path: Path) -> None:
    done = make("--dry-run", "--always-make", str(tmp_path / stamp), venv=tmp_path)
    assert done.returncode == 0, done.stderr
    commands = done.stdout.replace("\\\n", " ").splitlines()
    installs = [line for line in commands if re.search(r"\bpip install\b", line)]
    assert len(installs) == 3, done.stdout
    backend, locked, project = installs
    assert backend.endswith("--require-hashes --no-deps -r requirements/build.txt"), backend
    assert re.search(rf"--require-hashes --no-deps --no-build-isolation\s+-r {re.escape(lock)}$",
                     locked), locked
    assert project.endswith("--no-deps --no-build-isolation -e ."), project


def test_every_pip_install_in_the_makefile_is_by_hash_or_the_project_alone() -> None:
    lines = (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
    installs = [line for line in lines if re.search(r"\bpip install\b", line)]
    assert len(installs) >= 5
    for line in installs:
        by_hash = "--require-hashes" in line and "--no-deps" in line and " -r " in line
        project = re.search(r"--no-deps --no-build-isolation -e \.$", line.strip())
        assert by_hash or project, line


@pytest.mark.parametrize("stamp, lock", [(".installed-run", "requirements/run.txt"),
                                         (".installed-test", "requirements/test.txt")])
def test_a_changed_lock_or_pyproject_toml_reinstalls_the_venv(
        stamp: str, lock: str, tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pip").touch()
    (tmp_path / stamp).touch()  # newer than every file in the checkout
    assert make("--question", str(tmp_path / stamp), venv=tmp_path).returncode == 0
    for changed in (lock, "requirements/build.txt", "pyproject.toml"):
        again = make("--question", f"--what-if={changed}", str(tmp_path / stamp), venv=tmp_path)
        assert again.returncode == 1, f"{stamp} does not depend on {changed}"


# (e) the SBOM


def test_make_sbom_lists_what_is_installed_as_cyclonedx(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    out = tmp_path / "sbom.cdx.json"
    done = make("--old-file", str(venv / ".installed-test"), "sbom", f"SBOM={out}", venv=venv)
    assert done.returncode == 0, done.stdout + done.stderr
    sbom = json.loads(out.read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    assert sbom["metadata"]["component"]["name"] == "paywarden"
    # The project is the root component; an editable install may be listed once more.
    listed: dict[str, str] = {canonicalize_name(c["name"]): c["version"]
                              for c in sbom["components"] if c["name"] != "paywarden"}
    for name in ("fastapi", "cryptography"):
        assert listed[name] == metadata.version(name)
    assert listed == {name: v for name, v in installed().items() if name != "paywarden"}


# (f) pip refuses a changed hash


def pip_download(requirement: str, tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    """pip fetching from the registry the lock was made from, not from a copy on this disk
    that a machine's pip configuration may point at."""
    file = tmp_path / f"{name}.txt"
    file.write_text(requirement + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in {"PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"}}
    env["PIP_CONFIG_FILE"] = os.devnull  # no configuration file at all
    return subprocess.run(
        [sys.executable, "-m", "pip", "download", "--require-hashes", "--no-deps",
         "--only-binary=:all:", "--index-url", REGISTRY, "--no-cache-dir",
         "--disable-pip-version-check", "-d", str(tmp_path / name), "-r", str(file)],
        env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)


def altered(sha256: str) -> str:
    return sha256[:-1] + ("0" if sha256[-1] != "0" else "1")


def test_pip_refuses_a_locked_distribution_whose_hash_was_changed(tmp_path: Path) -> None:
    pin = pins_of(LOCK_TEST.read_text())["six"]  # small, pure Python, locked
    hashes = " ".join(f"--hash={h}" for h in pin.hashes)
    control = pip_download(f"six=={pin.version} {hashes}", tmp_path, "as-locked")
    if control.returncode != 0:
        pytest.skip("the package registry is unreachable: pip could not download six as "
                    f"locked: {control.stderr.strip()[-300:]}")
    wrong = " ".join(f"--hash={altered(h)}" for h in pin.hashes)
    refused = pip_download(f"six=={pin.version} {wrong}", tmp_path, "altered")
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr, refused.stderr
    assert f"six=={pin.version} from https://" in refused.stderr, refused.stderr
    assert not any((tmp_path / "altered").glob("six-*"))
