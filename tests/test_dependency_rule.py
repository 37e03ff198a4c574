"""The dependency rule of the rings, read from the source with `ast` so a stray import fails the build.

domain imports no other ring; application imports domain only; adapters import application and
domain, never entrypoints; entrypoints may import everything. The domain also stays free of
frameworks and I/O.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RINGS = ("domain", "application", "adapters", "entrypoints")
MAY_IMPORT = {
    "domain": frozenset({"domain"}),
    "application": frozenset({"domain", "application"}),
    "adapters": frozenset({"domain", "application", "adapters"}),
    "entrypoints": frozenset(RINGS),
}
NOT_IN_DOMAIN = frozenset(
    {
        "starlette",
        "uvicorn",
        "httpx",
        "blinker",
        "tenacity",
        "sqlalchemy",
        "socket",
        "smtplib",
        "requests",
        "os",
        "time",
        "sqlite3",
        "subprocess",
        "urllib",
        "http",
        "aiosmtpd",
        "prometheus_client",
    }
)


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. "application.handlers.users"; a package is named after its directory
    is_package: bool
    source: str


def project_modules(ring: str) -> list[Module]:
    modules = []
    for path in sorted((ROOT / ring).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules.append(Module(name, is_package, path.read_text(encoding="utf-8")))
    return modules


def resolve(module: Module, level: int, target: str | None) -> str | None:
    """The absolute name a relative import stands for; None when it climbs above the top package."""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if level > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports(module: Module) -> list[tuple[int, str | None]]:
    """(line, absolute module name) of every import, nested ones included; None for an unresolvable one."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(ast.parse(module.source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node.level, node.module) if node.level else node.module
            found.append((node.lineno, target))
    return found


def violations(module: Module) -> list[str]:
    ring = module.name.split(".")[0]
    problems = []
    for line, target in imports(module):
        where = f"{module.name}:{line}"
        if target is None:
            problems.append(f"{where} has a relative import above its top-level package")
            continue
        top = target.split(".")[0]
        if top in RINGS and top not in MAY_IMPORT[ring]:
            problems.append(f"{where} imports {target}: {ring} must not depend on {top}")
        if ring == "domain" and top in NOT_IN_DOMAIN:
            problems.append(f"{where} imports {target}: the domain stays free of frameworks and I/O")
    return problems


@pytest.mark.parametrize("ring", RINGS)
def test_every_ring_respects_the_dependency_rule(ring: str) -> None:
    modules = project_modules(ring)
    assert modules, f"no modules found under {ring}/; the check would pass vacuously"
    assert [problem for module in modules for problem in violations(module)] == []


def test_the_check_reads_the_real_imports() -> None:
    # Guards against a checker that finds no imports at all: the domain really does use its own errors.
    schedule = next(module for module in project_modules("domain") if module.name == "domain.schedule")
    assert "domain.errors" in {target for _, target in imports(schedule)}


# --- the checker checks itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("domain.schedule", "from adapters import memory\n", "domain must not depend on adapters"),
        ("domain.schedule", "import application.commands\n", "domain must not depend on application"),
        ("domain", "from entrypoints.bootstrap import bootstrap\n", "domain must not depend on entrypoints"),
        (
            "application.handlers.users",
            "from adapters.memory import MemoryStore\n",
            "must not depend on adapters",
        ),
        ("application.messagebus", "import entrypoints.http.api\n", "must not depend on entrypoints"),
        ("adapters.memory.store", "from entrypoints import bootstrap\n", "must not depend on entrypoints"),
        ("domain.user", "def f():\n    import adapters.memory\n", "must not depend on adapters"),
        (
            "domain.user",
            "if TYPE_CHECKING:\n    from application import x\n",
            "must not depend on application",
        ),
        ("domain.user", "import os\n", "free of frameworks and I/O"),
        ("domain.user", "import os.path\n", "free of frameworks and I/O"),
        ("domain.user", "from time import monotonic\n", "free of frameworks and I/O"),
        ("domain.user", "from starlette.requests import Request\n", "free of frameworks and I/O"),
        ("domain.user", "import httpx, blinker\n", "free of frameworks and I/O"),
        ("domain.user", "from .. import adapters\n", "relative import above its top-level package"),
        ("domain.sub.mod", "from ... import adapters\n", "relative import above its top-level package"),
    ],
)
def test_checker_reports_a_violation(name: str, source: str, expected: str) -> None:
    found = violations(Module(name, False, source))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("domain.schedule", "from domain.errors import InvalidSchedule\nimport zoneinfo\nimport re\n"),
        ("domain.schedule", "from .errors import InvalidSchedule\nfrom . import events\n"),
        ("domain.user", "from datetime import time\nimport datetime\n"),  # `time` the type, not the module
        ("application.handlers.users", "from ..commands import CreateUser\nimport domain.user\n"),
        ("adapters.memory.store", "from application.unit_of_work import UnitOfWork\nimport os\n"),
        ("entrypoints.bootstrap", "import adapters.memory, application.messagebus, domain.user\n"),
    ],
)
def test_checker_allows_what_the_rule_allows(name: str, source: str) -> None:
    assert violations(Module(name, False, source)) == []


@pytest.mark.parametrize(
    ("name", "is_package", "level", "target", "expected"),
    [
        ("domain.schedule", False, 1, "errors", "domain.errors"),
        ("domain.schedule", False, 1, None, "domain"),
        ("domain", True, 1, "events", "domain.events"),
        ("adapters.memory", True, 1, "store", "adapters.memory.store"),
        ("adapters.memory.store", False, 2, "log_channel", "adapters.log_channel"),
        ("application.handlers.users", False, 2, None, "application"),
        ("entrypoints.http.api", False, 3, None, None),
    ],
)
def test_relative_imports_resolve_to_absolute_names(
    name: str, is_package: bool, level: int, target: str | None, expected: str | None
) -> None:
    assert resolve(Module(name, is_package, ""), level, target) == expected
