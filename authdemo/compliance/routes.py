"""``/privacy/notice``: the privacy notice people read; ``/privacy/manifest``: the privacy
manifest of the running configuration, for auditors. Both are public."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template

from authdemo import PROJECT_ROOT, current
from authdemo.human_units import human_date, human_duration, human_seconds

bp = Blueprint("compliance", __name__, template_folder="templates")

PACK = PROJECT_ROOT / "compliance"


@bp.app_template_filter("days_in_words")
def days_in_words(days: int) -> str:
    return human_duration(days)


@bp.app_template_filter("seconds_in_words")
def seconds_in_words(seconds: int) -> str:
    return human_seconds(seconds)


@bp.app_template_filter("day_in_words")
def day_in_words(day: date) -> str:
    """A day as people write it in the page's language: "4 December 2026"."""
    return human_date(day)


@bp.get("/privacy/notice")
def privacy_notice() -> str:
    """The privacy notice at the point of collection (GDPR Art 13), for everyone."""
    from authdemo.compliance import privacy_notice as notice

    return render_template("privacy/notice.html", notice=notice.build(current.settings()))


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
