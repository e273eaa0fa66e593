"""What the code's shape promises (STYLE.md §13–15), checked over the source itself:

- a page, an API view, a form, a template tag or an export reads cases and consultations only through the
  access policy: `Case.objects` refuses to be used anywhere, and `Case.unscoped`, the one name for whole-table
  work, appears only where such work belongs (the policy, services, sweeps, reports, selectors);
- apps depend one way, oversight → cases → departments → core, in their imports (import-linter, in CI) and in
  their migrations (here);
- a refusal names one of the enumerated codes, and every service of the registry declares its move.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS
from cases.models import Case, Consultation
from core.refusals import RefusalCode
from core.scopes import UnscopedQuery

ROOT = Path(__file__).resolve().parents[1]
# The layers, lowest first: an app may depend only on those before it.
LAYERS = ["core", "departments", "cases", "oversight", "cityops"]
SCOPED = {"Case", "Consultation"}
# Where what a user sees is read: these must start from the policy.
READERS = ["cases/views", "cases/api", "cases/forms", "cases/templatetags", "cases/filters.py", "cases/desk_filters.py",
           "oversight/views", "oversight/forms.py", "oversight/report_forms.py", "departments/views.py",
           "core/exports.py", "cityops/context_processors.py", "cityops/navigation.py"]


def sources(*paths: str):
    for path in paths:
        target = ROOT / path
        yield from ([target] if target.is_file() else sorted(target.rglob("*.py")))


def unscoped_uses(path: Path, root: Path = ROOT) -> list[str]:
    """`Case.unscoped`, `Case.objects`, `Case._default_manager` (and the same of Consultation) in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in SCOPED
                and node.attr in {"unscoped", "objects", "_default_manager", "_base_manager"}):
            found.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_pages_api_forms_tags_and_exports_read_cases_through_the_policy():
    assert [use for path in sources(*READERS) for use in unscoped_uses(path)] == []


def test_the_checker_finds_an_unscoped_read(tmp_path):
    module = tmp_path / "view.py"
    module.write_text("def page(request):\n    return Case.unscoped.filter(status='routed')\n")
    assert unscoped_uses(module, tmp_path) == ["view.py:2 Case.unscoped"]


@pytest.mark.django_db
def test_a_forgotten_scope_fails_loudly():
    for model in (Case, Consultation):
        with pytest.raises(UnscopedQuery):
            model.objects.filter(pk=1).exists()
        # An empty queryset shows nothing: libraries that introspect a model may ask for one.
        assert not model.objects.none().exists()
    assert Case.unscoped.exists() is False


def test_no_app_names_an_app_above_it_in_its_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    upward = []
    for (app, name), migration in loader.disk_migrations.items():
        if app not in LAYERS:
            continue
        for dependency_app, _dependency in migration.dependencies:
            if dependency_app in LAYERS and LAYERS.index(dependency_app) > LAYERS.index(app):
                upward.append(f"{app}.{name} → {dependency_app}")
        for before_app, _before in getattr(migration, "run_before", []):
            if before_app in LAYERS and LAYERS.index(before_app) < LAYERS.index(app):
                upward.append(f"{app}.{name} runs before {before_app}")
    assert upward == []


def test_the_models_of_an_app_name_no_model_of_an_app_above_it():
    upward = []
    for model in apps.get_models():
        app = model._meta.app_label
        if app not in LAYERS:
            continue
        for field in model._meta.get_fields(include_hidden=False):
            if field.is_relation and field.concrete and field.related_model is not None:
                target = field.related_model._meta.app_label
                if target in LAYERS and LAYERS.index(target) > LAYERS.index(app):
                    upward.append(f"{model._meta.label}.{field.name} → {field.related_model._meta.label}")
    assert upward == []


def refusal_codes_named(path: Path) -> list[str]:
    """Refusals whose code is not a member of RefusalCode (a bare string, say)."""
    wrong = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Refused" and node.args:
            code = node.args[0]
            if not (isinstance(code, ast.Attribute) and getattr(code.value, "id", None) == "RefusalCode"):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return wrong


def test_every_refusal_names_an_enumerated_code():
    assert [line for path in sources("core", "departments", "cases", "oversight") for line in
            refusal_codes_named(path)] == []


def test_every_move_of_the_registry_is_a_declared_service():
    for action in [*CASE_ACTIONS.values(), *CONSULTATION_ACTIONS.values()]:
        move = action.move
        assert move.attempted and move.who is not None, action.slug
        assert all(isinstance(code, RefusalCode) for code in move.refuses), action.slug
