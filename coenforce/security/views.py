"""Signing in (password, then a second factor), two-factor enrollment, the
account page, and signing out. The rules are in service, sessions, twofactor."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coenforce.db import db
from coenforce.extensions import limiter, login_manager
from coenforce.forms import apply_errors
from coenforce.security import service, sessions, twofactor
from coenforce.security.forms import CodeForm, ConfirmPasswordForm, EnrollForm, LoginForm, PasswordChangeForm
from coenforce.security.passwords import verify_password
from coenforce.validation import ValidationError

bp = Blueprint("security", __name__)

login_manager.login_view = "security.login"
login_manager.login_message = None
NEXT_KEY = "next"


@login_manager.request_loader
def load_user(_request):
    """The user of a live, fully verified server-side session."""
    row = sessions.current(db.session)
    return row.user if row is not None and row.verified_at is not None else None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.home")


def _pending():
    """A session whose password was right but whose second factor is still awaited."""
    row = sessions.current(db.session)
    return row if row is not None and row.verified_at is None else None


def _failed(response) -> bool:
    """Only refused sign-ins count against an address: a whole office signs in from one."""
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = service.check_password(db.session, form.email.data, form.password.data or "")
        if user is not None:
            verified = not user.requires_two_factor
            sessions.start(db.session, user, verified=verified)
            session[NEXT_KEY] = _safe_next(request.args.get("next"))
            db.session.commit()
            if verified:
                return redirect(session.pop(NEXT_KEY))
            if user.totp_enabled_at is None:
                return redirect(url_for("security.enroll"))
            return redirect(url_for("security.second_factor"))
        db.session.commit()  # the failure counts against the account
        flash(_("That email and password do not match an active account, or the account must wait a few "
                "minutes after too many attempts."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed)
def second_factor():
    row = _pending()
    if row is None or row.user.totp_enabled_at is None:
        return redirect(url_for("security.login"))
    user = row.user
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        code = form.code.data or ""
        accepted = not service.is_locked(user) and (
            twofactor.check_code(user, code) or twofactor.use_recovery_code(db.session, user, code))
        if accepted:
            service.record_success(user)
            sessions.mark_verified(db.session, row)
            db.session.commit()
            return redirect(session.pop(NEXT_KEY, url_for("main.home")))
        service.record_failure(user)
        db.session.commit()
        apply_errors(form, ValidationError({"code": _("That code is not valid, or was used already.")}))
        status = 401
    return render_template("auth/code.html", form=form), status


@bp.route("/login/setup", methods=["GET", "POST"])
def enroll():
    """Two-factor enrollment: during sign-in for staff who have none yet, or from the account page."""
    row = sessions.current(db.session)
    if row is None:
        return redirect(url_for("security.login"))
    user = row.user
    if user.totp_enabled_at is not None:
        return redirect(url_for("security.account"))
    if user.totp_secret is None:
        twofactor.begin_enrollment(user)
        db.session.commit()
    form = EnrollForm()
    status = 200
    if form.validate_on_submit():
        codes = twofactor.confirm_enrollment(db.session, user, form.code.data or "")
        if codes is not None:
            if row.verified_at is None:
                sessions.mark_verified(db.session, row)
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next=session.pop(NEXT_KEY, url_for("main.home")))
        db.session.commit()
        apply_errors(form, ValidationError({"code": _("That code does not match. Check the time on your phone.")}))
        status = 422
    return render_template("auth/enroll.html", form=form, qr=twofactor.qr_data_uri(user),
                           secret=user.totp_secret), status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            service.change_password(db.session, current_user, form.current_password.data,
                                    form.new_password.data, form.confirm_password.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
        else:
            db.session.commit()
            session.clear()
            flash(_("Your password is changed. Every session was signed out: sign in again."), "success")
            return redirect(url_for("security.login"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/account.html", form=form, confirm=ConfirmPasswordForm(),
                           remaining=twofactor.remaining_recovery_codes(db.session, current_user)), status


def _password_confirmed() -> bool:
    form = ConfirmPasswordForm()
    return form.validate_on_submit() and verify_password(current_user.password_hash, form.password.data or "")


@bp.post("/account/two-factor/<action>")
@login_required
def two_factor_settings(action: str):
    """Change two-factor settings, only after the password is given again."""
    if action not in ("recovery-codes", "reset", "disable"):
        return redirect(url_for("security.account"))
    if not _password_confirmed():
        flash(_("Enter your current password to change two-factor settings."), "error")
        return redirect(url_for("security.account")), 303
    user = current_user._get_current_object()
    if action == "recovery-codes" and user.totp_enabled_at is not None:
        codes = twofactor.new_recovery_codes(db.session, user)
        db.session.commit()
        return render_template("auth/recovery_codes.html", codes=codes, next=url_for("security.account"))
    if action == "disable" and user.is_agency_staff:
        flash(_("Agency staff must keep two-factor login. You can set up a new authenticator instead."), "error")
        return redirect(url_for("security.account"))
    twofactor.disable(db.session, user)
    if action == "reset":
        twofactor.begin_enrollment(user)
        db.session.commit()
        return redirect(url_for("security.enroll"))
    db.session.commit()
    flash(_("Two-factor login is off."), "success")
    return redirect(url_for("security.account"))


@bp.post("/logout")
def logout():
    row = sessions.current(db.session)
    if row is not None:
        sessions.end(db.session, row, "logout")
        db.session.commit()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("security.login"))
