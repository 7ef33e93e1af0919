from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    # Long passphrases are welcome; beyond this the form refuses before any hashing.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text"})
    submit = SubmitField(_l("Continue"))


class EnrollForm(FlaskForm):
    code = StringField(_l("The 6-digit code your app shows now"), validators=[DataRequired(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn on two-factor login"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(_l("New password (12 to 128 characters)"), validators=[DataRequired(), Length(max=1024)])
    confirm_password = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Change password"))


class ConfirmPasswordForm(FlaskForm):
    """Asks for the password again before two-factor settings change."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=1024)])
