"""The legal directory: immigration legal providers and consulates an agency
keeps for the workers it serves, and the attorney-list handout printed from a
complaint."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the directory's pages, API and commands."""
