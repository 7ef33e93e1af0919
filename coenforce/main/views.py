from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from coenforce.db import db
from coenforce.main import service

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    return render_template("main/home.html", summary=service.home_summary(db.session, current_user))
