"""The Android build, checked offline (an APK needs the Android SDK/NDK, which this machine cannot fetch).

* buildozer's own checks of ``buildozer.spec``, the version it reads from the package, the files it
  would copy into the APK, and the python-for-android command it derives (parsed by p4a's own
  bootstrap argument parser);
* python-for-android's recipe resolution for the requirements, and that every requirement without a
  recipe is an installed, pure-Python distribution whose own dependencies are listed too (p4a
  pip-installs those with ``--no-deps`` and accepts any name, typos and C extensions included);
* that the requirements cover everything the app imports at run time: statically (every import
  statement, lazy ones included) and by running the app's code under ``-OO`` in a subprocess that
  refuses every module the phone will not have;
* the phone's Python rules: no stdlib modules removed in 3.12-3.14 or left out by p4a, no ``assert``,
  nothing that needs docstrings, no globbing for ``*.py``.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "buildozer.spec"
SRC = ROOT / "src" / "flashcards"
PROBE = Path(__file__).resolve().parent / "android_runtime_probe.py"

# The phone's Python (python-for-android 2026.5: CPython 3.14) lacks these.
REMOVED_3_12_TO_3_14 = {
    # 3.12
    "asynchat", "asyncore", "distutils", "imp", "smtpd",
    # 3.13 (PEP 594 and lib2to3)
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
    "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3", "tkinter.tix",
}  # fmt: skip
# Attributes removed in 3.12-3.14 from modules that still exist.
REMOVED_ATTRIBUTES = {
    "sqlite3": {"version", "version_info"},
    "pkgutil": {"find_loader", "get_loader", "ImpImporter", "ImpLoader"},
    "ast": {"Num", "Str", "Bytes", "NameConstant", "Ellipsis"},
    "importlib.abc": {"ResourceReader", "Traversable", "TraversableResources", "Finder"},
    "urllib.request": {"URLopener", "FancyURLopener"},
    "unittest": {"findTestCases", "makeSuite", "getTestCaseNames"},
    "configparser": {"SafeConfigParser", "readfp"},
    "locale": {"resetlocale"},
}
# Left out of python-for-android's Python (stdlib_dir_blacklist, --without-readline, no Tk/curses/gdbm;
# _bz2/_lzma only with the libbz2/liblzma recipes, _zstd needs a libzstd nobody builds).
NOT_IN_P4A_PYTHON = {
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "ensurepip", "lib2to3", "readline",
    "curses", "_curses", "_curses_panel", "dbm.gnu", "dbm.ndbm", "_gdbm", "_dbm", "bz2", "_bz2", "lzma", "_lzma",
}  # fmt: skip
# Importable only when guarded (the zstd reader falls back to it, and says so when it is missing).
NOT_IN_P4A_PYTHON_OPTIONAL = {"compression.zstd", "_zstd"}
# Stdlib packages newer than this interpreter (3.11) that the phone's 3.14 has.
STDLIB_3_14 = {"compression", "annotationlib"}
# Imports the app may attempt and must survive without: the feature says it is unavailable instead.
OPTIONAL = {"zstandard", "fsrs_rs_python", "compression", "backports.zstd"}


def _optional(name: str) -> bool:
    """``name`` is an optional module, or the parent package Python imports on the way to one."""
    return any(name == o or name.startswith(o + ".") or o.startswith(name + ".") for o in OPTIONAL)
# Provided on the phone by python-for-android recipes (not pip distributions here).
RECIPE_MODULES = {"kivy": {"kivy"}, "pyjnius": {"jnius"}, "android": {"android"}}
ANDROID_ONLY = {"jnius", "android", "androidstorage4kivy"}


# ---------------------------------------------------------------- the spec, read by buildozer itself


def _buildozer(monkeypatch, tmp_path, target: str | None = "android"):
    """A Buildozer on our spec, building into ``tmp_path`` (HOME too: it creates ~/.buildozer)."""
    from buildozer import Buildozer

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    b = Buildozer(str(SPEC))  # runs check_configuration_tokens: exit(1) on errors
    b.logger.set_level(0)  # errors only: it logs every file it copies
    b.config.set("buildozer", "build_dir", str(tmp_path / "build"))
    b.config.set("buildozer", "bin_dir", str(tmp_path / "bin"))
    if target:
        b.set_target(target)  # checks the layout and the tokens again, builds TargetAndroid
    return b


def _requirements() -> list[str]:
    from buildozer.specparser import SpecParser

    config = SpecParser()
    config.read(str(SPEC), "utf-8")
    return config.getlist("app", "requirements", "")


def _split(requirement: str) -> tuple[str, str | None]:
    # python-for-android's toolchain does exactly this: "name==version" -> VERSION_name env var.
    name, _, version = requirement.partition("==")
    return name.strip(), (version.strip() or None)


def test_spec_passes_buildozers_checks(monkeypatch, tmp_path):
    b = _buildozer(monkeypatch, tmp_path)
    get = b.config.getdefault
    assert get("app", "title", "") == "Flashcards"
    assert b.package_full_name == "org.flashcardsapp.flashcards"
    assert b.config.getlist("app", "orientation", []) == ["portrait"]
    assert b.target._archs == ["arm64-v8a", "armeabi-v7a"]
    assert get("buildozer", "warn_on_root", "1") == "0"
    assert get("app", "p4a.bootstrap", "sdl2") == "sdl2"
    # The build clones the p4a release these checks use, not p4a's moving master branch.
    import pythonforandroid

    assert get("app", "p4a.branch", "master") == f"v{pythonforandroid.__version__}"
    # The repository's setup.py is a desktop install hook: p4a must not run it.
    assert "--ignore-setup-py" in b.target.extra_p4a_args


def test_a_broken_spec_is_refused(monkeypatch, tmp_path):
    """The check above can fail: buildozer exits on a spec missing its version source."""
    from buildozer import Buildozer

    bad = tmp_path / "buildozer.spec"
    bad.write_text(re.sub(r"(?m)^version\.(regex|filename).*\n", "", SPEC.read_text(encoding="utf-8")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        Buildozer(str(bad))


def test_version_is_read_from_the_package(monkeypatch, tmp_path):
    import flashcards

    b = _buildozer(monkeypatch, tmp_path, target=None)
    version = b.get_version()
    assert version == flashcards.__version__
    # p4a computes the Android versionCode from it digit group by digit group: int() of each part.
    assert re.fullmatch(r"\d+(\.\d+){1,3}", version), version


def test_apk_gets_the_app_and_nothing_else(monkeypatch, tmp_path):
    b = _buildozer(monkeypatch, tmp_path)
    b._copy_application_sources()
    app = Path(b.app_dir)
    shipped = {p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()}

    wanted = {"main.py"}
    wanted |= {p.relative_to(ROOT).as_posix() for p in SRC.rglob("*") if p.suffix in (".py", ".kv")}
    wanted |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "decks").rglob("*") if p.is_file()}
    # Every asset (icons, fonts and their licences) except the image sources (src-*).
    wanted |= {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "assets").rglob("*") if p.is_file() and not p.name.startswith("src-")
    }
    assert {"assets/icon.png", "assets/presplash.png"} <= wanted
    wanted = {w for w in wanted if "__pycache__" not in w}
    assert not (wanted - shipped), f"missing from the APK: {sorted(wanted - shipped)}"

    forbidden = re.compile(r"^(\.venv|venv|tests|benchmarks|bin|build|dist|\.buildozer|\.git|screenshots)/")
    leaked = sorted(s for s in shipped if forbidden.match(s) or s in ("setup.py", "pyproject.toml"))
    leaked += sorted(s for s in shipped if s.endswith(".pyc") or "/src-" in s or s.startswith("assets/src-"))
    assert not leaked, f"should not be in the APK: {leaked}"
    assert any(s.startswith("decks/") and s.endswith(".md") for s in shipped), "no shipped deck"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def _p4a_command(monkeypatch, tmp_path) -> list[str]:
    """The ``apk`` arguments buildozer hands to python-for-android for a debug build."""
    from buildozer.targets.android import TargetAndroid

    b = _buildozer(monkeypatch, tmp_path)
    captured: list[list] = []

    class Captured(Exception):
        pass

    def capture(self, build_cmd):
        captured.append(build_cmd)
        raise Captured

    monkeypatch.setattr(TargetAndroid, "execute_build_package", capture)
    Path(b.target.get_dist_dir("flashcards")).mkdir(parents=True)
    b.build_application()  # what `buildozer android debug` does before packaging: copy the app
    b.target.build_mode = "debug"
    with pytest.raises(Captured):
        b.target.build_package()
    args: list[str] = []
    for option, *values in captured[0]:
        if option not in ("debug", "release"):
            args += [option, *values]
    return args


def test_p4a_accepts_the_package_command(monkeypatch, tmp_path):
    """Feed buildozer's arguments to p4a's own bootstrap packager (``build.py``), stopping before it builds."""
    monkeypatch.setenv("P4A_BUILD_IS_RUNNING_UNITTESTS", "1")  # lets p4a's bootstrap build.py import
    from pythonforandroid.bootstraps.common.build import build as p4a_build

    args = _p4a_command(monkeypatch, tmp_path)
    ndk_api = args[args.index("--ndk-api") + 1]
    # The dist is compiled with --ndk-api (buildozer: android.ndk_api, default android.minapi); build.py
    # refuses a --minsdk that differs. --ndk-api itself is the toolchain's, not build.py's.
    i = args.index("--ndk-api")
    del args[i : i + 2]
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "dist_info.json").write_text(json.dumps({"ndk_api": int(ndk_api), "bootstrap": "sdl2"}))
    monkeypatch.chdir(dist)
    monkeypatch.setattr(p4a_build, "get_dist_info_for", lambda key, error_if_missing=True: {"bootstrap": "sdl2"}[key])
    packaged = []
    monkeypatch.setattr(p4a_build, "make_package", packaged.append)
    # The dist folder holds the sdl2 bootstrap's file blacklist; build.py adds it to its patterns.
    p4a_dir = Path(p4a_build.__file__).resolve().parents[2]
    monkeypatch.setattr(p4a_build, "BLACKLIST_PATTERNS", list(p4a_build.BLACKLIST_PATTERNS))
    monkeypatch.setattr(p4a_build, "WHITELIST_PATTERNS", list(p4a_build.WHITELIST_PATTERNS))
    args += ["--blacklist", str(p4a_dir / "_sdl_common" / "build" / "blacklist.txt")]
    args += ["--whitelist", str(p4a_dir / "common" / "build" / "whitelist.txt")]
    p4a_build.parse_args_and_make_package(args)  # exits on a bad combination
    (ns,) = packaged
    # Nothing of ours is dropped by p4a's file blacklist when it tars the app folder.
    dropped = [str(p) for p in Path(ns.private).rglob("*") if p.is_file() and p4a_build.is_blacklist(str(p))]
    assert not dropped, f"p4a would leave these out of the APK: {dropped}"
    assert ns.name == "Flashcards" and ns.package == "org.flashcardsapp.flashcards"
    assert ns.orientation == ["portrait"] and ns.manifest_orientation == "portrait"
    assert ns.min_sdk_version == int(ndk_api) >= 24
    assert ns.window is True  # fullscreen = 0: keep Android's status bar
    assert _png_size(Path(ns.icon)) == (512, 512)
    w, h = _png_size(Path(ns.presplash))
    assert w >= 512 and h >= 512
    assert _png_size(Path(ns.icon_fg)) == _png_size(Path(ns.icon_bg))
    assert {"name": "android.permission.READ_EXTERNAL_STORAGE", "maxSdkVersion": "28"} in ns.permissions
    assert Path(ns.private, "main.py").is_file()
    # p4a's versionCode: "10" + minsdk + each version part as two digits; must be an int below 2^31.
    code = 0
    for part in ns.version.split("."):
        code = code * 100 + int(part)
    assert int(f"10{ns.min_sdk_version}{code}") < 2**31


def test_android_api_levels_pass_p4as_checks(monkeypatch, tmp_path):
    from pythonforandroid import recommendations as rec

    b = _buildozer(monkeypatch, tmp_path)
    api, minapi = int(b.target.android_api), int(b.target.android_minapi)
    ndk_api = int(b.config.getdefault("app", "android.ndk_api", minapi))
    for arch in b.target._archs:
        rec.check_target_api(api, arch)  # raises for impossible combinations
    rec.check_ndk_api(ndk_api, api)
    # The warnings p4a only prints: Google Play's minimum target API, the oldest NDK API it supports.
    assert api >= rec.MIN_TARGET_API and ndk_api >= rec.MIN_NDK_API


# ---------------------------------------------------------------- python-for-android's view of requirements


def _resolve():
    from pythonforandroid.bootstrap import Bootstrap
    from pythonforandroid.build import Context
    from pythonforandroid.graph import get_recipe_order_and_bootstrap

    ctx = Context()
    ctx.setup_dirs(str(Path(os.environ.get("TMPDIR", "/tmp")) / "p4a-resolve"))
    names = [_split(r)[0] for r in _requirements()]
    bootstrap = Bootstrap.get_bootstrap("sdl2", ctx)
    recipes, python_modules, bs = get_recipe_order_and_bootstrap(ctx, names, bootstrap)
    return ctx, recipes, python_modules, bs


@pytest.fixture(scope="module")
def resolved():
    return _resolve()


def test_recipe_resolution(resolved):
    from pythonforandroid.recipe import Recipe

    ctx, recipes, python_modules, bs = resolved
    assert bs.name == "sdl2"
    for needed in ("python3", "kivy", "sqlite3", "sdl2", "pyjnius", "android", "openssl", "libffi"):
        assert needed in recipes, f"{needed} missing from the recipe build order {recipes}"
    assert recipes.index("python3") < recipes.index("kivy")
    # A pinned recipe builds the recipe's source: the pin must be the version p4a knows how to build.
    for requirement in _requirements():
        name, version = _split(requirement)
        if name in recipes and version is not None:
            assert Recipe.get_recipe(name, ctx).version == version, requirement
    assert "sqlite3" in {_split(r)[0] for r in _requirements()}, "sqlite3 must be listed explicitly"


def _own_pip_requirements(recipes) -> dict[str, str | None]:
    return {name: version for name, version in map(_split, _requirements()) if name not in recipes}


def _phone_marker_env(extra: str = "") -> dict[str, str]:
    return {
        "python_version": "3.14", "python_full_version": "3.14.2", "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "sys_platform": "android", "platform_system": "Android",
        "os_name": "posix", "platform_machine": "aarch64", "platform_release": "", "platform_version": "",
        "implementation_version": "3.14.2", "extra": extra,
    }  # fmt: skip


def test_every_pip_requirement_is_pure_python_and_pinned(resolved):
    ctx, recipes, python_modules, bs = resolved
    own = _own_pip_requirements(recipes)
    assert own, "no pure-Python requirements found: the resolution is broken"
    assert set(own) <= set(python_modules)
    problems = []
    for name, version in own.items():
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            problems.append(f"{name}: not installed here, so not checkable (a typo? pip install it)")
            continue
        if version is None:
            problems.append(f"{name}: pin a version (the one tested here is {dist.version})")
        elif dist.version != version:
            problems.append(f"{name}: pinned {version} but {dist.version} is installed and tested")
        wheel = dist.read_text("WHEEL") or ""
        tags = re.findall(r"(?m)^Tag: (\S+)$", wheel)
        if not tags or not all(t.endswith("-none-any") for t in tags):
            problems.append(f"{name}: wheel tags {tags} are not pure Python (needs a p4a recipe)")
        if "Root-Is-Purelib: true" not in wheel:
            problems.append(f"{name}: not purelib")
        compiled = [str(f) for f in dist.files or () if str(f).endswith((".so", ".pyd", ".dylib", ".dll"))]
        if compiled:
            problems.append(f"{name}: ships compiled files {compiled[:3]}")
    assert not problems, "\n".join(problems)


def test_pip_requirements_bring_their_own_dependencies(resolved):
    """p4a runs ``pip install --no-deps``: a dependency not in the spec is missing on the phone."""
    from pythonforandroid.recipe import Recipe

    ctx, recipes, python_modules, bs = resolved
    listed = {canonicalize_name(n) for n in map(lambda r: _split(r)[0], _requirements())}
    for recipe in recipes:
        listed |= {canonicalize_name(_split(d)[0]) for d in Recipe.get_recipe(recipe, ctx).python_depends}
    missing = []
    for name in _own_pip_requirements(recipes):
        for line in md.distribution(name).requires or ():
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(_phone_marker_env()):
                continue
            if canonicalize_name(req.name) not in listed:
                missing.append(f"{name} needs {req}")
    assert not missing, "add to buildozer.spec requirements: " + "; ".join(missing)


def test_pins_agree_with_pyproject(resolved):
    import tomllib

    ctx, recipes, python_modules, bs = resolved
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    ranges = {canonicalize_name(r.name): r.specifier for r in map(Requirement, deps)}
    for name, version in map(_split, _requirements()):
        spec: SpecifierSet | None = ranges.get(canonicalize_name(name))
        if spec is not None and version is not None:
            assert spec.contains(version), f"{name}=={version} is outside pyproject's {spec}"
    assert Marker("sys_platform == 'android'").evaluate(_phone_marker_env())


# ---------------------------------------------------------------- what the app imports at run time


def _app_files() -> list[Path]:
    return sorted([ROOT / "main.py", *SRC.rglob("*.py")])


def _allowed_top_level(recipes, python_modules) -> set[str]:
    """Import names the phone will have besides the stdlib: recipes' modules and pip requirements'."""
    names = set()
    for recipe, modules in RECIPE_MODULES.items():
        if recipe in recipes:
            names |= modules
    by_dist: dict[str, set[str]] = {}
    for top, dists in md.packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(canonicalize_name(dist), set()).add(top)
    for module in python_modules:
        names |= by_dist.get(canonicalize_name(_split(module)[0]), set())
    return names


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            # "from dbm import gnu" and the like
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_every_import_statement_is_covered(resolved):
    """Lazy imports too: each one must be stdlib on the phone, the app, a requirement, or optional."""
    ctx, recipes, python_modules, bs = resolved
    allowed = _allowed_top_level(recipes, python_modules)
    stdlib = set(sys.stdlib_module_names) | STDLIB_3_14
    problems = []
    for path in _app_files():
        rel = path.relative_to(ROOT).as_posix()
        for name, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            top = name.partition(".")[0]
            if top in ANDROID_ONLY and not (rel == "main.py" or rel.startswith("src/flashcards/ui/")):
                problems.append(f"{rel}:{line}: {name} is Android-only and the core must not need it")
            if top in ("flashcards", "main") or _optional(name):
                continue
            if top in stdlib:
                continue
            if top in allowed:
                continue
            if "." in name and name.rpartition(".")[0] in stdlib | allowed:
                continue  # "from package import name" where name is an attribute, not a module
            problems.append(f"{rel}:{line}: imports {name}, which is not in buildozer.spec requirements")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def phone_run(resolved, tmp_path_factory):
    """The probe's report: the app's modules imported and the app run under -OO, phone imports only."""
    ctx, recipes, python_modules, bs = resolved
    tmp = tmp_path_factory.mktemp("phone")
    apkg = _zstd_package(tmp)
    config = {
        "root": str(ROOT),
        "allowed_top_level": sorted(_allowed_top_level(recipes, python_modules)),
        "missing_stdlib": sorted(REMOVED_3_12_TO_3_14 | NOT_IN_P4A_PYTHON | NOT_IN_P4A_PYTHON_OPTIONAL),
        "run_app": (SRC / "ui" / "app.py").is_file(),
        "degrade": {
            "optimizer": {"func": "flashcards.optimizer.optimizer_available"},
            "zstd": {"func": "flashcards.importers.anki_zstd.available"},
            **({"apkg": {"func": "flashcards.importing.parse", "args": [str(apkg)]}} if apkg else {}),
        },
    }
    (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KIVY", "KCFG", "PYTEST", "FLASHCARDS"))
    }
    env.update(
        KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_HOME=str(tmp / "kivy_home"),
        KIVY_USE_DEFAULTCONFIG="1", FLASHCARDS_HOME=str(tmp / "data"), HOME=str(tmp / "home"),
        PYTHONDONTWRITEBYTECODE="1", KIVY_METRICS_DENSITY="2.625", KCFG_GRAPHICS_WIDTH="360",
        KCFG_GRAPHICS_HEIGHT="640",
    )  # fmt: skip
    out = tmp / "report.json"
    proc = subprocess.run(
        [sys.executable, "-OO", str(PROBE), str(tmp / "config.json"), str(out)],
        env=env, cwd=str(tmp), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0 and out.is_file(), f"probe failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


def _zstd_package(tmp: Path) -> Path | None:
    """An .apkg in Anki's newest layout (zstd), built with the test factory when Anki is installed."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from apkg_factory import make_package
    except ImportError:
        return None
    finally:
        sys.path.pop(0)
    return make_package(tmp / "apkg", "anki21b").path


def test_app_code_runs_with_only_the_phones_modules(phone_run):
    assert phone_run["optimize"] == 2, "the probe must run under -OO like the APK's .pyc files"
    assert not phone_run["import_errors"], "\n".join(phone_run["import_errors"].values())
    if (SRC / "ui" / "app.py").is_file():
        assert phone_run["app_error"] is None, phone_run["app_error"]
        assert phone_run["app_ran"], "the app did not start through main.py"
        # main.py did the desktop's start-up steps: the shipped decks are in the new collection.
        shipped = {key for key, _version in phone_run.get("shipped_decks", [])}
        assert shipped and shipped == {p.stem for p in (ROOT / "decks").glob("*.md") if p.stem.lower() != "readme"}
    # Imports refused to the app's own files: only the optional extras, which degrade.
    ours = [r for r in phone_run["refused"] if r["by"] == "main.py" or r["by"].startswith("src/")]
    unexpected = [r for r in ours if not _optional(r["module"])]
    assert not unexpected, f"the app needs modules the phone will not have: {unexpected}"


def test_loaded_third_party_modules_are_all_requirements(phone_run, resolved):
    ctx, recipes, python_modules, bs = resolved
    allowed = _allowed_top_level(recipes, python_modules)
    stdlib = set(sys.stdlib_module_names)
    tops = {m.partition(".")[0] for m in phone_run["loaded"]}
    stray = sorted(
        t for t in tops
        if t not in stdlib and t not in allowed and t not in ("flashcards", "main") and not t.startswith(("_sysconfigdata", "_cython_", "cython_runtime"))
    )  # fmt: skip  (the last two: Cython's runtime, created by Kivy's compiled modules)
    assert not stray, f"loaded but not in requirements: {stray}"
    assert "flashcards" in tops and "fsrs" in tops and "peewee" in tops


def test_optional_extras_degrade_with_a_message(phone_run):
    degrade = phone_run["degrade"]
    assert degrade["optimizer"] == {"returned": "False"}
    assert degrade["zstd"] == {"returned": "False"}
    if "apkg" in degrade:
        apkg = degrade["apkg"]
        assert "FlashcardsError" in apkg.get("mro", []), apkg
        assert "zstandard" in apkg["message"] and "desktop" in apkg["message"], apkg


# ---------------------------------------------------------------- the phone's Python rules


def _trees():
    for path in _app_files():
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_no_removed_or_missing_stdlib_modules():
    problems = []
    banned = REMOVED_3_12_TO_3_14 | NOT_IN_P4A_PYTHON
    for rel, tree in _trees():
        for name, line in _imports(tree):
            parts = name.split(".")
            if any(".".join(parts[: i + 1]) in banned for i in range(len(parts))):
                problems.append(f"{rel}:{line}: {name} is not in the phone's Python 3.14")
        aliases = {a.asname or a.name: a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in REMOVED_ATTRIBUTES:
                for alias in node.names:
                    if alias.name in REMOVED_ATTRIBUTES[node.module]:
                        problems.append(f"{rel}:{node.lineno}: {node.module}.{alias.name} was removed")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                module = aliases.get(node.value.id)
                if module in REMOVED_ATTRIBUTES and node.attr in REMOVED_ATTRIBUTES[module]:
                    problems.append(f"{rel}:{node.lineno}: {module}.{node.attr} was removed")
    assert not problems, "\n".join(problems)


def test_no_assert_in_app_code():
    """The APK's .pyc files are compiled with -OO: every assert vanishes, with whatever it checked."""
    found = [f"{rel}:{n.lineno}" for rel, tree in _trees() for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    assert not found, f"assert in app code (raise an error instead): {found}"


def test_nothing_needs_docstrings():
    """-OO strips docstrings: ``__doc__`` is None on the phone."""
    found = []
    for rel, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "__doc__":
                found.append(f"{rel}:{node.lineno}: .__doc__")
            elif isinstance(node, ast.Name) and node.id == "__doc__":
                found.append(f"{rel}:{node.lineno}: __doc__")
            elif isinstance(node, ast.Attribute) and node.attr == "getdoc":
                found.append(f"{rel}:{node.lineno}: getdoc")
    assert not found, "\n".join(found)


def test_no_globbing_for_python_sources():
    """The APK has .pyc files only (compiled with -b, no .py): code must not look for *.py at run time."""
    pattern = re.compile(r"(^|[*/\\])[^\s/\\]*\*\.py\b|^\.py$")
    found = []
    for rel, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
                found.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)


def test_app_code_compiles_like_p4a_compiles_it(tmp_path):
    """p4a runs ``python -OO -m compileall -b`` on every file; do the same (syntax, -OO)."""
    import py_compile

    for path in _app_files():
        py_compile.compile(str(path), cfile=str(tmp_path / "x.pyc"), doraise=True, optimize=2)
