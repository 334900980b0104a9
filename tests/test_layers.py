"""The layer rules of docs/architecture.md hold, and the import contracts that state them bite.

``make lint`` runs ``lint-imports`` over the tree; here the same contracts (pyproject.toml) run
over a copy of the tree with one forbidden import added, and must fail naming it. No database and
no Temporal server: these tests need neither.
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "contracts", "workflows", "activities", "store", "mentorflow")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--contract", contract],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages, worker.py and pyproject.toml (the contracts), to add imports to."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("worker.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


FORBIDDEN = [
    # (contract id, the module added, its source, the chain the report must name)
    ("layers", "activities/leak.py", "from workflows import TASK_QUEUE\n", "activities.leak"),
    ("layers", "store/leak.py", "import activities.metrics\n", "store.leak"),
    ("layers", "contracts/leak.py", "import store.errors\n", "contracts.leak"),
    (
        "composition-root",
        "mentorflow/leak.py",
        "def inside() -> None:\n    from worker import WORKFLOWS  # noqa: F401\n",
        "mentorflow.leak -> worker",
    ),
    ("pure-domain", "domain/leak.py", "import asyncpg\n", "domain.leak -> asyncpg"),
    (
        "aggregates",
        "domain/relationship/leak.py",
        "import domain.programme.state\n",
        "domain.relationship.leak -> domain.programme.state",
    ),
    ("deterministic-workflows", "workflows/leak.py", "import store.pool\n", "workflows.leak"),
]


@pytest.mark.parametrize(("contract", "module", "source", "named"), FORBIDDEN)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, contract: str, module: str, source: str, named: str
) -> None:
    """Each contract passes on today's tree and fails once one forbidden import is added."""
    kept = lint_imports(tree, contract)
    assert kept.returncode == 0, kept.stdout
    (tree / module).write_text(source)
    try:
        broken = lint_imports(tree, contract)
    finally:
        (tree / module).unlink()
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert named in " ".join(broken.stdout.split())


SQL = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE|ALTER|DROP)\b")
SHOWN_NOT_RUN = {"mentorflow/demo_view.py"}  # prints a query for the reader to try; runs none


def sql_outside_store() -> list[str]:
    found = []
    sources = [ROOT / "worker.py"] + [
        path
        for package in PACKAGES
        if package != "store"
        for path in (ROOT / package).rglob("*.py")
    ]
    for path in sources:
        name = str(path.relative_to(ROOT))
        if name in SHOWN_NOT_RUN:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.match(node.value)
            ):
                found.append(f"{name}:{node.lineno}: {node.value.strip()[:60]}")
    return found


def test_store_owns_every_table() -> None:
    """No module outside store/ holds a SQL statement: each table is read and written there."""
    assert sql_outside_store() == []


PURE = ["tests/test_domain.py", "tests/test_layers.py"]
SERVERS = {"_postgres", "pool", "database_url", "store", "env", "dev_env", "mail"}


def test_pure_tests_start_no_server() -> None:
    """The domain's tests and these need no PostgreSQL, Temporal or mail server, and start none."""
    plan = subprocess.run(
        [sys.executable, "-m", "pytest", "--setup-plan", "-q", "-p", "no:cacheprovider", *PURE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plan.returncode == 0, plan.stdout[-2000:]
    set_up = set(re.findall(r"SETUP\s+[SMF] (\w+)", plan.stdout))
    assert "_remove_private_dirs" in set_up  # the plan lists session fixtures
    assert set_up & SERVERS == set()


def code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings (which may quote defaults)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_the_temporal_address_default_lives_in_settings_only() -> None:
    """``localhost:7233`` is written once, in Settings; every entry point reads it from there."""
    from mentorflow.settings import Settings

    assert Settings.model_fields["temporal_address"].default == "localhost:7233"
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for line, text in code_strings(path)
        if "localhost:7233" in text
    ]
    assert [name.rsplit(":", 1)[0] for name in found] == ["mentorflow/settings.py"], found


def test_the_architecture_page_states_every_contract() -> None:
    """docs/architecture.md names each import contract that make lint enforces."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ids = [c["id"] for c in config["tool"]["importlinter"]["contracts"]]
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert ids
    assert [i for i in ids if f"| `{i}` |" not in page] == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p for p in (*PACKAGES, "bench") if f"\n{p}/ " not in readme] == []
