"""``/privacy/manifest``: the privacy manifest of the running configuration, for anyone."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from authdemo import PROJECT_ROOT, current

bp = Blueprint("compliance", __name__, template_folder="templates")

PACK = PROJECT_ROOT / "compliance"


@bp.get("/privacy/manifest")
def manifest_page() -> str:
    from authdemo.compliance import manifest  # on first use: YAML and the pack stay out of
    # every worker's memory until someone reads the manifest

    built = manifest.from_app_files(current.settings(), PACK)
    return render_template("compliance/manifest_page.html", manifest=built)


@bp.get("/privacy/manifest.md")
def manifest_markdown() -> Response:
    from authdemo.compliance import manifest

    built = manifest.from_app_files(current.settings(), PACK)
    return Response(manifest.render_markdown(built), mimetype="text/markdown")
