"""docs/deployment.md is the script the deployed stage follows, so the two cannot drift:
the nginx template's variables are exactly the ones the doc lists and renders with, and
the settings the stage exports are exactly the ones the doc exports."""

from __future__ import annotations

from tests.deployed import stack


def test_the_nginx_template_uses_exactly_the_variables_the_doc_lists() -> None:
    placeholders = stack.template_placeholders()
    assert placeholders, "no ${AUTHDEMO_...} placeholders found in the template"
    assert set(stack.documented_variable_table()) == placeholders
    rendered_with = stack.documented_nginx_variables()
    assert len(rendered_with) == len(set(rendered_with))
    assert set(rendered_with) == placeholders


def test_the_stage_sets_exactly_the_settings_the_doc_exports() -> None:
    env = stack.app_environment(
        origin="https://login.example.com", bind="127.0.0.1:8000", database_url="x", redis_url="y"
    )
    assert set(env) == stack.documented_exports()
