"""The apps' layer order, as README "Layout" and docs/architecture.md state it.

An app may import apps in its own layer's predecessors and nothing above it. The test reads
every import statement in apps/ (including those inside functions, which would only hide a
cycle), so a new cross-app import either fits the order or fails here with the file and line.
"""

import ast
from pathlib import Path

APPS = Path(__file__).resolve().parent.parent / "apps"

# Lowest first. Apps on one line are peers: they may not import each other.
LAYERS = [
    ["telemetry"],
    ["sites"],
    ["accounts"],
    ["audit"],
    ["assets"],
    ["ownership"],
    ["runbooks"],
    ["alarms"],
    ["incidents"],
    ["maintenance"],
    ["reports"],
    ["dashboard", "ingest", "simulator"],
    ["business", "drills"],
    ["demo"],
]
RANK = {app: rank for rank, peers in enumerate(LAYERS) for app in peers}


def imports_of(path: Path):
    """(line, imported app) for each import of another apps.<app> module in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "apps":
                names = [f"apps.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "apps" and len(parts) > 1:
                yield node.lineno, parts[1]


def app_sources():
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def violations():
    found = []
    for path in app_sources():
        app = path.relative_to(APPS).parts[0]
        if app not in RANK:
            continue
        for line, other in imports_of(path):
            if other != app and RANK.get(other, len(LAYERS)) >= RANK[app]:
                found.append(f"apps/{path.relative_to(APPS)}:{line} ({app}) imports apps.{other}")
    return found


def test_every_app_has_a_layer():
    apps = {p.name for p in APPS.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert apps - RANK.keys() == set(), "add the new app to LAYERS here and in docs/architecture.md"


def test_imports_follow_the_layer_order():
    assert violations() == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from apps.dashboard.live import site_group\n    import apps.alarms.models\n")
    assert [other for _, other in imports_of(source)] == ["dashboard", "alarms"]


def test_relations_follow_the_layer_order():
    """A foreign key or many-to-many is a dependency too: it points down the order only."""
    from django.apps import apps as registry

    found = []
    for model in registry.get_models():
        app = model._meta.app_label
        for field in model._meta.get_fields():
            if not (field.is_relation and field.related_model) or field.auto_created:
                continue  # reverse accessors are the other model's relation
            other = field.related_model._meta.app_label
            if app in RANK and other in RANK and other != app and RANK[other] >= RANK[app]:
                found.append(f"{model._meta.label}.{field.name} ({app}) -> {field.related_model._meta.label}")
    assert found == []
