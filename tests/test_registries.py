"""What a developer adding a keyword, a stage, a confirmation or a clock job notices.

Registries fill themselves from the modules they discover; a clash is refused at
import with both registrants named; a module that registers nothing is a
forgotten decorator and fails here; imports run one way (docs/architecture.md).
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

from sms_board import handlers
from sms_board.clock import jobs
from sms_board.clock.jobs import DUE_JOBS, DueJob, due_job, load_jobs
from sms_board.handlers.router import (
    CONFIRM_ACTIONS,
    KEYWORD_STAGE,
    KEYWORDS,
    STAGES,
    Context,
    Keyword,
    Stage,
    confirm_action,
    keyword,
    lookup_keyword,
    stage,
)
from sms_board.plumbing.registry import DuplicateEntry, Registry

PACKAGE = Path(handlers.__file__).resolve().parent.parent


def _nothing(ctx: Context) -> None:
    pass


def _never(ctx: Context) -> bool:
    return False


# ── clashes are refused, naming both registrants ───────────────────────────


def test_a_second_handler_for_a_keyword_is_refused_naming_both_modules():
    with pytest.raises(DuplicateEntry) as refused:
        keyword("JOIN")(_nothing)
    message = str(refused.value)
    assert "keyword 'JOIN' is registered twice" in message
    assert "sms_board.handlers.join" in message and __name__ in message
    assert KEYWORDS["JOIN"].handler is not _nothing


def test_a_keyword_with_one_name_taken_registers_none_of_its_names():
    with pytest.raises(DuplicateEntry):
        keyword("BRANDNEW", "POST")(_nothing)
    assert "BRANDNEW" not in KEYWORDS
    assert lookup_keyword("BRANDNEW") is None


def test_a_stage_name_or_order_that_is_taken_is_refused():
    with pytest.raises(DuplicateEntry) as same_name:
        stage(99, "inbox")(_never)
    assert "stage 'inbox' is registered twice" in str(same_name.value)
    assert "sms_board.handlers.inbox" in str(same_name.value)

    with pytest.raises(DuplicateEntry) as same_order:
        stage(KEYWORD_STAGE, "another_keyword_stage")(_never)
    message = str(same_order.value)
    assert f"stage order {KEYWORD_STAGE} is taken twice" in message
    assert "'keyword' (sms_board.handlers.router)" in message and f"({__name__})" in message
    assert "another_keyword_stage" not in STAGES


def test_a_second_action_for_a_confirmation_is_refused():
    with pytest.raises(DuplicateEntry) as refused:
        confirm_action("forget")(lambda ctx, pending: None)
    assert "confirm action 'forget' is registered twice" in str(refused.value)
    assert "sms_board.handlers.forget" in str(refused.value)


def test_a_second_due_job_of_the_same_name_is_refused():
    load_jobs()
    with pytest.raises(DuplicateEntry) as refused:
        due_job("digests", order=1)(lambda factory, settings, now: 0)
    assert "due job 'digests' is registered twice" in str(refused.value)
    assert "sms_board.clock.jobs.digests" in str(refused.value)


# ── tests and tools add entries for a while through the public API ──────────


def test_temporarily_adds_an_entry_and_takes_it_away_again():
    registry: Registry[Stage] = Registry("stage", origin=lambda entry: entry.func.__module__, distinct="order")
    registry.add("first", Stage(1, "first", _never))
    with registry.temporarily("second", Stage(2, "second", _never)) as entry:
        assert registry["second"] is entry and registry.module_of("second") == __name__
        assert list(registry) == ["first", "second"]
    assert list(registry) == ["first"]

    with registry.temporarily("second", Stage(2, "second", _never)):
        registry.remove("second")  # removed inside the block: leaving it is no error
    assert "second" not in registry
    with pytest.raises(KeyError, match="no stage 'second' is registered"):
        registry.remove("second")


def test_a_temporary_keyword_is_routed_and_then_gone():
    with KEYWORDS.temporarily("ZEPHYR", Keyword("ZEPHYR", _nothing)):
        assert lookup_keyword("ZEPHYR") is KEYWORDS["ZEPHYR"]
        assert lookup_keyword("ZEPHRY") is KEYWORDS["ZEPHYR"]  # one swapped pair: a typo
    assert lookup_keyword("ZEPHYR") is None


def test_a_temporary_job_is_refused_when_its_name_is_taken():
    load_jobs()
    with pytest.raises(DuplicateEntry), DUE_JOBS.temporarily("held_released", DueJob("held_released", 1, print)):
        pass
    assert DUE_JOBS.module_of("held_released") == "sms_board.clock.jobs.sending"


# ── discovery: no hand-kept lists, and no module that registers nothing ─────


def _modules_in(package_path: list[str] | str, prefix: str) -> list[str]:
    return [module.name for module in pkgutil.iter_modules(list(package_path), prefix=prefix)]


def test_every_module_in_handlers_is_imported_and_registers_something():
    found = _modules_in(handlers.__path__, "sms_board.handlers.")
    assert set(found) == set(handlers.HANDLER_MODULES)
    registrants = KEYWORDS.modules() | STAGES.modules() | CONFIRM_ACTIONS.modules()
    silent = [name for name in found if name not in registrants]
    assert not silent, (
        f"{', '.join(silent)} registers no keyword, stage or confirm action: a forgotten decorator? "
        "Shared helpers belong in sms_board/community/ or beside the handler that uses them."
    )


def test_every_module_in_clock_jobs_registers_a_job():
    loaded = load_jobs()
    found = _modules_in(jobs.__path__, "sms_board.clock.jobs.")
    silent = [name for name in found if name not in DUE_JOBS.modules()]
    assert not silent, f"{', '.join(silent)} registers no @due_job: a forgotten decorator?"
    assert {job.func.__module__ for job in loaded} <= set(found)


def test_jobs_run_in_their_order_with_the_names_tick_reports():
    assert [(job.name, job.order) for job in load_jobs()] == [
        ("inbound_taken_over", 5), ("drafts_lapsed", 10), ("broadcasts", 20), ("digests", 30), ("quiet_hours_held", 35),
        ("held_released", 40), ("organiser_notices", 60), ("quiet_requests", 70), ("helper_proposals", 75),
        ("helpers_reconfirmed", 76), ("inbound_retention", 80), ("voice_message_deletion", 81),
        ("login_codes_redacted", 85), ("campaigns_done", 90), ("report_snapshots", 92), ("report_texts", 94),
    ]


# ── imports run one way: web/cli/clock → handlers → broadcast → community → sending ──

# What each layer must never import (it is imported by them, or beside them).
_NEVER_IMPORTS = {
    "inbound": {"clock", "web", "cli", "dashboard"},
    "handlers": {"clock", "web", "cli", "inbound", "dashboard"},
    "broadcast": {"clock", "web", "cli", "inbound", "handlers", "dashboard"},
    "community": {"clock", "web", "cli", "inbound", "handlers", "broadcast", "dashboard"},
    "sending": {"clock", "web", "cli", "inbound", "handlers", "broadcast", "community", "dashboard"},
    # The dashboard's reads and actions sit beside handlers, above broadcast; its route modules
    # use what the web shares (below: `test_only_the_dashboards_route_modules_know_flask_or_the_web`).
    "dashboard": {"clock", "cli", "inbound", "handlers"},
}


def _imported_parts(path: Path) -> set[str]:
    """The `sms_board.<part>` names a file imports, at the top or inside a function."""
    parts = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "sms_board" else [f"sms_board.{a.name}" for a in node.names]
        parts |= {name.split(".")[1] for name in names if name.startswith("sms_board.")}
    return parts


@pytest.mark.parametrize("layer", sorted(_NEVER_IMPORTS))
def test_imports_run_one_way(layer):
    root = PACKAGE / layer
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files, f"{layer} names no module of the board: a layer that moved must move here too"
    wrong = {
        str(path.relative_to(PACKAGE.parent)): sorted(_imported_parts(path) & _NEVER_IMPORTS[layer])
        for path in files
    }
    assert not {path: parts for path, parts in wrong.items() if parts}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_handler_modules_import_only_the_router_and_the_domain():
    """One keyword family per module: a step two handlers share lives in the domain, or in the router."""
    own = PACKAGE / "handlers"
    handler_modules = {path.stem for path in own.glob("*.py")} - {"router", "__init__"}
    found = {}
    for path in sorted(own.glob("*.py")):
        if path.stem not in handler_modules:
            continue
        names = _imported_modules(path) | _relative_imports(path, "sms_board.handlers")
        found[path.name] = sorted(
            {name.split(".")[2] for name in names if name.startswith("sms_board.handlers.")} & handler_modules
        )
    assert not {name: imported for name, imported in found.items() if imported}, "a handler imports another handler"


def _relative_imports(path: Path, package: str) -> set[str]:
    """`from .join import x` and `from . import join`, spelled out as `package.join…`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            base = f"{package}.{node.module}" if node.module else package
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return names


@pytest.mark.parametrize("layer", ["web", "dashboard"])
def test_the_web_layer_never_imports_the_sender(layer):
    offenders = [
        str(path.relative_to(PACKAGE.parent)) for path in sorted((PACKAGE / layer).rglob("*.py"))
        if any(name.startswith("sms_board.sending.sender") for name in _imported_modules(path))
    ]
    assert not offenders, f"{offenders} import the sender: pages write outbox rows, only the sender sends"


# ── the dashboard: routes beside read models, and only the routes know Flask ──

_ROUTES = "_routes"


def _defines_a_blueprint(path: Path) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Blueprint"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def _web_modules(path: Path) -> set[str]:
    """The modules of `sms_board/web/` a file imports (`from sms_board.web import sessions` is the package)."""
    web = PACKAGE / "web"
    found = set()
    for name in _imported_modules(path):
        parts = name.split(".")
        if parts[:2] == ["sms_board", "web"]:
            found.add(parts[2] if len(parts) > 2 and (web / f"{parts[2]}.py").exists() else "__init__")
    return found


def test_only_the_dashboards_route_modules_know_flask_or_the_web():
    """`*_routes.py` is where Flask is, beside the module it serves; the reads and actions work without it."""
    dashboard = sorted((PACKAGE / "dashboard").rglob("*.py"))
    knows_flask = {
        path.stem for path in dashboard
        if any(name.split(".")[0] in {"flask", "werkzeug"} for name in _imported_modules(path)) or _web_modules(path)
    }
    assert knows_flask == {path.stem for path in dashboard if path.stem.endswith(_ROUTES)}, (
        "a dashboard module that uses Flask or sms_board.web is a route module, named *_routes.py"
    )


def test_dashboard_routes_use_what_the_web_shares_and_the_web_shares_no_dashboard_route():
    """Route modules import the web's shared modules (no blueprint there), never its pages; those never import them."""
    web = sorted((PACKAGE / "web").glob("*.py"))
    pages = {path.stem for path in web if _defines_a_blueprint(path)}
    assert {"sms", "status", "health", "public", "simulator"} <= pages and "security" not in pages
    routes = sorted((PACKAGE / "dashboard").rglob(f"*{_ROUTES}.py"))
    wrong = {path.name: sorted(_web_modules(path) & pages) for path in routes}
    assert not {name: found for name, found in wrong.items() if found}, "a dashboard route module imports a web page"
    shared_importing_routes = {
        path.name: sorted(name for name in _imported_modules(path) if name.startswith("sms_board.dashboard.")
                          and name.split(".")[2].endswith(_ROUTES))
        for path in web if path.stem not in pages
    }
    assert not {name: found for name, found in shared_importing_routes.items() if found}


# ── Flask route modules run no SQL of their own ───────────────────────────

_STATEMENTS = {"select", "update", "insert", "delete"}
_RUNS_SQL = {"execute", "scalars", "scalar"}


def _sql_in(path: Path) -> list[str]:
    """Statements a file builds (sqlalchemy's select/update/insert/delete) or runs (`.execute`, `.scalars`,
    `.scalar`, or a row looked up by its key: `.get(<a model>, …)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    models = {
        alias.asname or alias.name for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sms_board.models") for alias in node.names
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"imports {alias.name}" for alias in node.names if alias.name in _STATEMENTS]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RUNS_SQL:
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in models):
            found.append(f"line {node.lineno}: .get({node.args[0].id}, …)")
    return found


def _route_modules() -> list[Path]:
    """Every module of `web/`, and every `*_routes.py` of the dashboard (the modules there that know Flask)."""
    return sorted((PACKAGE / "web").rglob("*.py")) + sorted((PACKAGE / "dashboard").rglob(f"*{_ROUTES}.py"))


def test_flask_route_modules_run_no_sql_of_their_own():
    """A page reads through its read model beside it (or the domain) and renders: its queries live there."""
    modules = _route_modules()
    assert {"signin_routes.py", "inbox_routes.py", "composer_routes.py", "admin_routes.py"} <= {p.name for p in modules}
    offenders = {str(path.relative_to(PACKAGE.parent)): found for path in modules if (found := _sql_in(path))}
    assert not offenders, f"route modules running SQL: {offenders}"
