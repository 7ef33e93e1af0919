"""Signing in and out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from coenforce.db import db
from coenforce.extensions import limiter, login_manager
from coenforce.partners.models import User
from coenforce.security.forms import LoginForm
from coenforce.security.passwords import verify_password

bp = Blueprint("security", __name__)

login_manager.login_view = "security.login"
login_manager.login_message = None
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user named by the cookie, if their session epoch still matches."""
    user_id, _sep, epoch = session_id.partition(".")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        # Always verify, even for an unknown email, so timing tells nothing.
        matches = verify_password(user.password_hash if user else None, form.password.data or "")
        if matches and user is not None and user.active:
            session.clear()  # a fresh session at login: nothing carried over from before
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("That email and password do not match an active account."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    # Until sessions are stored server-side, bumping the epoch is what makes a
    # copied cookie worthless after logout (it signs out the user's other devices too).
    current_user.session_epoch += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("security.login"))
