"""Accounts: sign-up, verification, sign-in with throttling, sessions, reset, profile, workspaces.

Plain Python over a database session. Callers (Reflex state, HTTP routes, the API) pass the
session first. Answers never reveal whether an address has an account: sign-up, reset and
failed sign-in say the same for known and unknown addresses, and sign-up, reset and a new
confirmation link are only stored when asked for (``request_*``), so the answer also takes
the same time; a job does the work (``process_account_requests``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts import passwords, ratelimit
from omnipostr.accounts.models import (
    AccountRequest,
    AuthSession,
    AuthToken,
    Invite,
    KnownDevice,
    LoginFailure,
    Membership,
    OAuthIdentity,
    PolicyAcceptance,
    User,
    Workspace,
    email_index,
)
from omnipostr.accounts.validation import InputError, clean_text, normalize_email
from omnipostr.audit import service as audit
from omnipostr.crypto import new_token, token_hash
from omnipostr.notify import service as mail
from omnipostr.settings import get_settings

__all__ = ["InputError", "AuthError", "Actor"]

log = logging.getLogger("omnipostr.accounts")


class AuthError(Exception):
    """A refused authentication step, with a message that reveals nothing about accounts."""

    def __init__(self, message: str, *, locked: bool = False, unverified: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked
        self.unverified = unverified


WRONG_CREDENTIALS = "Email or password is incorrect."
BAD_LINK = "This link is invalid or has expired. Ask for a new one."


@dataclass(frozen=True)
class Actor:
    """Who is acting, and in which workspace: what every content service filters by."""

    user_id: int
    workspace_id: int
    role: str
    session_id: int | None = None
    is_admin: bool = False
    name: str = ""
    email: str = ""

    @property
    def can_manage(self) -> bool:
        return self.role in ("owner", "admin")


@dataclass
class ClientInfo:
    ip: str = ""
    user_agent: str = ""

    def parsed(self) -> tuple[str, str, str]:
        return describe_user_agent(self.user_agent)


def describe_user_agent(ua: str) -> tuple[str, str, str]:
    """(browser, OS, device) in words a person recognises."""
    if not ua:
        return ("Unknown browser", "Unknown system", "")
    from ua_parser import parse

    r = parse(ua)
    browser = r.user_agent.family if r.user_agent else "Unknown browser"
    if r.user_agent and r.user_agent.major:
        browser = f"{browser} {r.user_agent.major}"
    os_name = r.os.family if r.os else "Unknown system"
    if r.os and r.os.major:
        os_name = f"{os_name} {r.os.major}"
    device = r.device.family if r.device and r.device.family != "Other" else ""
    return (browser[:64], os_name[:64], device[:64])


def link(path: str) -> str:
    return f"{get_settings().base_url}{path}"


# --- tokens -------------------------------------------------------------------------------


def issue_token(
    s: Session, purpose: str, ttl: timedelta, *, user_id: int | None = None, data: str = ""
) -> str:
    token = new_token()
    s.add(
        AuthToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash(token),
            data=data,
            expires_at=clock.now() + ttl,
        )
    )
    s.flush()
    return token


def take_token(s: Session, purpose: str, token: str) -> AuthToken:
    """Mark a single-use token used and return it; AuthError when unknown, used or expired."""
    if not token or len(token) > 200:
        raise AuthError(BAD_LINK)
    row = s.exec(
        select(AuthToken).where(AuthToken.token_hash == token_hash(token), AuthToken.purpose == purpose)
    ).first()
    now = clock.now()
    if row is None or row.used_at is not None or row.expires_at < now:
        raise AuthError(BAD_LINK)
    # conditional update: two concurrent uses of one token cannot both succeed
    done = s.exec(  # type: ignore[call-overload]
        update(AuthToken)
        .where(col(AuthToken.id) == row.id, col(AuthToken.used_at).is_(None))
        .values(used_at=now)
    )
    if done.rowcount != 1:
        raise AuthError(BAD_LINK)
    row.used_at = now
    return row


def peek_token(s: Session, purpose: str, token: str) -> AuthToken | None:
    """The token's row if it is still usable, without using it."""
    if not token or len(token) > 200:
        return None
    row = s.exec(
        select(AuthToken).where(AuthToken.token_hash == token_hash(token), AuthToken.purpose == purpose)
    ).first()
    if row is None or row.used_at is not None or row.expires_at < clock.now():
        return None
    return row


# --- sign-up and verification ------------------------------------------------------------


@dataclass
class SignUpForm:
    name: str
    email: str
    password: str
    team: str
    age_confirmed: bool
    policy_accepted: bool
    marketing_opt_in: bool = False


def check_sign_up(form: SignUpForm) -> tuple[str, str, str]:
    """Validate a sign-up form; returns (name, email, team) cleaned, or raises InputError."""
    name = clean_text(form.name, label="Name", field="name")
    email = normalize_email(form.email)
    team = clean_text(form.team, label="Team or company name", field="team")
    if problem := passwords.password_problem(form.password, email=email, name=name):
        raise InputError(problem, "password")
    if not form.age_confirmed:
        raise InputError("OmniPostr is for people aged 16 or older. Please confirm your age.", "age")
    if not form.policy_accepted:
        raise InputError("Please accept the privacy policy to create an account.", "policy")
    return name, email, team


def sign_up(s: Session, form: SignUpForm) -> User | None:
    """Create the account and its workspace, and send the confirmation email, at once (the
    job that works through sign-up requests, and tests). Pages call ``request_sign_up``.

    For an address that already has an account nothing is created and that address is told
    so by email. Returns the new user or None."""
    name, email, team = check_sign_up(form)
    return create_account(
        s, name=name, email=email, team=team, password_hash=passwords.hash_password(form.password),
        marketing_opt_in=bool(form.marketing_opt_in),
    )


def create_account(
    s: Session, *, name: str, email: str, team: str, password_hash: str, marketing_opt_in: bool = False,
    policy_version: str | None = None,
) -> User | None:
    existing = s.exec(select(User).where(User.email_index == email_index(email))).first()
    if existing is not None:
        mail.enqueue(
            s,
            "account_exists",
            email,
            {"name": existing.name, "login_link": link("/login"), "reset_link": link("/reset")},
            user_id=existing.id,
        )
        return None
    now = clock.now()
    user = User(
        name=name,
        email=email,
        password_hash=password_hash,
        age_confirmed_at=now,
        marketing_opt_in=marketing_opt_in,
        password_changed_at=now,
    )
    s.add(user)
    s.flush()
    _create_own_workspace(s, user, team)
    s.add(PolicyAcceptance(user_id=user.id, version=policy_version or get_settings().privacy_policy_version))
    send_verification(s, user)
    return user


# --- what visitors ask for: stored at once, done by a job ----------------------------------------

TOO_MANY_FOR_ADDRESS = (
    "We have already sent several emails to this address in the last hour. Check your inbox and "
    "spam folder, or try again later."
)
TOO_MANY_FROM_NETWORK = "Too many requests from your network. Try again in an hour."


def _allow_mail(email: str, ip: str) -> None:
    """The per-address and per-IP limits on account mail; the same for every address."""
    cfg = get_settings()
    if ip and not ratelimit.allow("account-mail-ip", ip, cfg.account_mail_per_ip_per_hour):
        raise InputError(TOO_MANY_FROM_NETWORK, "form")
    if not ratelimit.allow("account-mail-address", email_index(email), cfg.account_mail_per_address_per_hour):
        raise InputError(TOO_MANY_FOR_ADDRESS, "form")


def request_sign_up(s: Session, form: SignUpForm, ip: str = "") -> str:
    """Check a sign-up form and store the request (the account is made, or the address told
    it has one, by ``process_account_requests``). Returns the address, normalised."""
    name, email, team = check_sign_up(form)
    _allow_mail(email, ip)
    s.add(AccountRequest(kind="signup", payload={
        "name": name, "email": email, "team": team, "password_hash": passwords.hash_password(form.password),
        "marketing_opt_in": bool(form.marketing_opt_in), "policy_version": get_settings().privacy_policy_version,
    }))
    return email


def request_new_confirmation(s: Session, email_raw: str, ip: str = "") -> None:
    """Ask for a new confirmation link for an unconfirmed account (silent otherwise)."""
    email = normalize_email(email_raw)
    _allow_mail(email, ip)
    s.add(AccountRequest(kind="resend", payload={"email": email}))


def request_password_reset(s: Session, email_raw: str, ip: str = "") -> None:
    """Ask for a reset link for the address (sent only if it has an account)."""
    email = normalize_email(email_raw)
    _allow_mail(email, ip)
    s.add(AccountRequest(kind="reset", payload={"email": email}))


def process_account_requests(s: Session, limit: int = 50) -> int:
    """Do the work of stored requests, oldest first; each one in its own savepoint, so one
    that fails is retried alone (five times, then dropped)."""
    rows = s.exec(select(AccountRequest).order_by(col(AccountRequest.id)).limit(limit)).all()
    done = 0
    for row in rows:
        try:
            with s.begin_nested():
                if row.kind == "signup":
                    create_account(s, **row.payload)
                elif row.kind == "resend":
                    resend_verification(s, row.payload["email"])
                elif row.kind == "reset":
                    send_password_reset(s, row.payload["email"])
                s.delete(row)
            done += 1
        except Exception:
            log.exception("account request %s (%s) failed", row.id, row.kind)
            row.attempts += 1
            if row.attempts >= 5:
                s.delete(row)
            else:
                s.add(row)
    return done


def _create_own_workspace(s: Session, user: User, team: str) -> Workspace:
    ws = Workspace(name=team, owner_id=user.id)
    s.add(ws)
    s.flush()
    s.add(Membership(workspace_id=ws.id, user_id=user.id, role="owner"))
    s.flush()
    return ws


def send_verification(s: Session, user: User) -> None:
    hours = get_settings().verify_token_hours
    token = issue_token(s, "verify_email", timedelta(hours=hours), user_id=user.id)
    mail.enqueue(
        s,
        "verify_email",
        user.email,
        {"name": user.name, "link": link(f"/verify?token={token}"), "hours": hours},
        user_id=user.id,
    )


def resend_verification(s: Session, email_raw: str) -> None:
    """Send a new confirmation link if the address has an unconfirmed account. Silent otherwise.
    (The job's side of ``request_new_confirmation``.)"""
    try:
        email = normalize_email(email_raw)
    except InputError:
        return
    user = s.exec(select(User).where(User.email_index == email_index(email))).first()
    if user is not None and user.email_verified_at is None:
        send_verification(s, user)


def confirm_email(s: Session, token: str) -> User:
    row = take_token(s, "verify_email", token)
    user = s.get(User, row.user_id)
    if user is None:
        raise AuthError(BAD_LINK)
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
        s.add(user)
    return user


# --- throttling and sign-in ----------------------------------------------------------------


def _failure_count(s: Session, key: str, since: datetime) -> int:
    return s.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.at >= since)
    ).one()


def throttle_status(s: Session, email: str, ip: str) -> str | None:
    """A message when sign-in from this address or IP is paused, else None."""
    cfg = get_settings()
    window = timedelta(minutes=cfg.login_lockout_minutes)
    since = clock.now() - window
    if _failure_count(s, f"acct:{email_index(email)}", since) >= cfg.login_max_failures_per_account:
        return (
            f"Too many failed attempts for this account. Try again in {cfg.login_lockout_minutes} "
            "minutes, or reset your password."
        )
    if ip and _failure_count(s, f"ip:{ip}", since) >= cfg.login_max_failures_per_ip:
        return (
            f"Too many failed sign-in attempts from your network. Try again in "
            f"{cfg.login_lockout_minutes} minutes."
        )
    return None


def _record_failure(s: Session, email: str, ip: str) -> None:
    s.add(LoginFailure(key=f"acct:{email_index(email)}"))
    if ip:
        s.add(LoginFailure(key=f"ip:{ip}"))


def authenticate(s: Session, email_raw: str, password: str, ip: str = "") -> User:
    """Check an address and password. Raises AuthError with the same message for an unknown
    address and a wrong password; a paused account or IP gets the pause message."""
    try:
        email = normalize_email(email_raw)
    except InputError:
        raise AuthError(WRONG_CREDENTIALS) from None
    if (msg := throttle_status(s, email, ip)) is not None:
        raise AuthError(msg, locked=True)
    user = s.exec(select(User).where(User.email_index == email_index(email))).first()
    if user is not None and user.deletion_requested_at is not None:
        user = None  # being deleted: as if it were gone already
    ok = passwords.verify_password(user.password_hash if user else None, password[:1024])
    # the failure record and the new link must outlive the refusal: commit before raising
    if not ok or user is None:
        _record_failure(s, email, ip)
        audit.record(s, "sign_in_failed", actor_id=user.id if user else None, ip=ip)
        s.commit()
        raise AuthError(WRONG_CREDENTIALS)
    if user.email_verified_at is None:
        send_verification(s, user)
        s.commit()
        raise AuthError(
            "Please confirm your email address first. We have sent you a new link.", unverified=True
        )
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = passwords.hash_password(password)
    s.exec(delete(LoginFailure).where(col(LoginFailure.key) == f"acct:{email_index(email)}"))  # type: ignore[call-overload]
    s.add(user)
    return user


def issue_sign_in_ticket(s: Session, user_id: int, next_path: str = "/app") -> str:
    """A one-minute, single-use ticket the browser trades for a session cookie at /auth/session."""
    return issue_token(
        s, "sign_in", timedelta(seconds=60), user_id=user_id, data=json.dumps({"next": safe_next(next_path)}, ensure_ascii=False)
    )


def redeem_sign_in_ticket(s: Session, ticket: str) -> tuple[User, str]:
    row = take_token(s, "sign_in", ticket)
    user = s.get(User, row.user_id)
    if user is None:
        raise AuthError(BAD_LINK)
    try:
        nxt = json.loads(row.data or "{}").get("next", "/app")
    except ValueError:
        nxt = "/app"
    return user, safe_next(nxt)


def safe_next(path: str | None) -> str:
    """Only same-site paths: never an open redirect. Browsers drop tabs and newlines from
    URLs, so "/\t/evil.example" would become "//evil.example": control characters are refused."""
    if (
        not path
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or any(ord(c) < 32 or ord(c) == 127 for c in path)
    ):
        return "/app"
    return path[:500]


# --- sessions ------------------------------------------------------------------------------


def _fingerprint(user_id: int, browser: str, os_name: str, device: str) -> str:
    fam = browser.split(" ")[0]
    osf = os_name.split(" ")[0]
    return hashlib.sha256(f"{user_id}|{fam}|{osf}|{device}".encode()).hexdigest()


def start_session(
    s: Session, user: User, client: ClientInfo, *, method: str = "password", replaces: str | None = None
) -> tuple[str, AuthSession]:
    """Create a session for a signed-in user; returns (cookie token, row). ``replaces`` is the
    token this browser had: a sign-in always starts a new session and ends the old one.

    The first sign-in from a browser family and system the user has not used before sends a
    new-device email (except for the very first sign-in of an account)."""
    cfg = get_settings()
    now = clock.now()
    end_session(s, replaces)
    browser, os_name, device = client.parsed()
    token = new_token()
    ws_id = _default_workspace_id(s, user.id)
    row = AuthSession(
        user_id=user.id,
        token_hash=token_hash(token),
        workspace_id=ws_id,
        expires_at=now + timedelta(days=cfg.session_days),
        ip=client.ip[:64],
        user_agent=client.user_agent[:512],
        browser=browser,
        os=os_name,
        device=device,
        method=method,
    )
    s.add(row)
    fp = _fingerprint(user.id, browser, os_name, device)
    known = s.exec(select(KnownDevice).where(KnownDevice.user_id == user.id, KnownDevice.fingerprint == fp)).first()
    if known is None:
        had_devices = s.exec(select(KnownDevice.id).where(KnownDevice.user_id == user.id)).first() is not None
        s.add(KnownDevice(user_id=user.id, fingerprint=fp))
        if had_devices:
            mail.enqueue(
                s,
                "new_device_login",
                user.email,
                {
                    "name": user.name,
                    "when": now.strftime("%Y-%m-%d %H:%M UTC"),
                    "ip": client.ip or "unknown",
                    "browser": browser,
                    "os": os_name,
                    "link": link("/settings/security"),
                },
                user_id=user.id,
            )
    else:
        known.last_seen_at = now
        s.add(known)
    user.last_login_at = now
    s.add(user)
    s.flush()
    audit.record(s, "sign_in", actor_id=user.id, target=f"session:{row.id}", ip=client.ip, method=method[:16])
    return token, row


def _default_workspace_id(s: Session, user_id: int) -> int | None:
    rows = s.exec(
        select(Membership).where(Membership.user_id == user_id).order_by(col(Membership.id))
    ).all()
    if not rows:
        return None
    own = [m for m in rows if m.role == "owner"]
    return (own or rows)[0].workspace_id


@dataclass
class Resolved:
    user: User
    session: AuthSession
    actor: Actor | None
    workspace: Workspace | None


def resolve_session(s: Session, token: str | None, *, touch: bool = True) -> Resolved | None:
    """The user behind a session cookie, or None when it is unknown, expired or revoked."""
    if not token or len(token) > 200:
        return None
    return resolve_session_ref(s, token_hash(token), touch=touch)


def session_ref(token: str) -> str:
    """What the app's pages hold of a session instead of its cookie: the keyed hash the
    database keeps. It cannot be replayed as a cookie (see ``accounts.session_header``)."""
    return token_hash(token)


def resolve_session_ref(s: Session, ref: str | None, *, touch: bool = True) -> Resolved | None:
    """``resolve_session`` for a session reference (``session_ref`` of the cookie)."""
    if not ref or len(ref) != 64:
        return None
    row = s.exec(select(AuthSession).where(AuthSession.token_hash == ref)).first()
    now = clock.now()
    cfg = get_settings()
    if row is None or row.revoked_at is not None or row.expires_at < now:
        return None
    if row.last_seen_at < now - timedelta(days=cfg.session_idle_days):
        return None
    user = s.get(User, row.user_id)
    if user is None or user.deletion_requested_at is not None:
        return None
    if touch and row.last_seen_at < now - timedelta(seconds=60):
        row.last_seen_at = now
        user.last_active_at = now
        s.add(row)
        s.add(user)
    actor, ws = _actor_for(s, user, row)
    return Resolved(user=user, session=row, actor=actor, workspace=ws)


def member_for_ref(s: Session, ref: str, workspace_id: int) -> Actor | None:
    """The member behind a live session reference, if they still act in ``workspace_id``
    (for pages that push for a while: one indexed query, nothing written)."""
    if not ref or len(ref) != 64:
        return None
    now = clock.now()
    idle = now - timedelta(days=get_settings().session_idle_days)
    row = s.exec(
        select(AuthSession, Membership)
        .join(Membership, Membership.user_id == AuthSession.user_id)
        .where(
            AuthSession.token_hash == ref,
            col(AuthSession.revoked_at).is_(None),
            AuthSession.expires_at > now,
            AuthSession.last_seen_at >= idle,
            AuthSession.workspace_id == workspace_id,
            Membership.workspace_id == workspace_id,
        )
    ).first()
    if row is None:
        return None
    sess, m = row
    return Actor(user_id=sess.user_id, workspace_id=m.workspace_id, role=m.role, session_id=sess.id)


def _actor_for(s: Session, user: User, row: AuthSession) -> tuple[Actor | None, Workspace | None]:
    m = None
    if row.workspace_id is not None:
        m = s.exec(
            select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == row.workspace_id)
        ).first()
    if m is None:  # removed from that workspace: fall back to another one
        ws_id = _default_workspace_id(s, user.id)
        row.workspace_id = ws_id
        s.add(row)
        if ws_id is None:
            return None, None
        m = s.exec(select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == ws_id)).one()
    ws = s.get(Workspace, m.workspace_id)
    actor = Actor(
        user_id=user.id,
        workspace_id=m.workspace_id,
        role=m.role,
        session_id=row.id,
        is_admin=user.is_admin,
        name=user.name,
        email=user.email,
    )
    return actor, ws


def end_session(s: Session, token: str | None) -> None:
    if not token:
        return
    s.exec(  # type: ignore[call-overload]
        update(AuthSession)
        .where(col(AuthSession.token_hash) == token_hash(token), col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=clock.now())
    )


def list_sessions(s: Session, user_id: int) -> list[AuthSession]:
    now = clock.now()
    return list(
        s.exec(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                col(AuthSession.revoked_at).is_(None),
                AuthSession.expires_at > now,
            )
            .order_by(col(AuthSession.last_seen_at).desc())
        ).all()
    )


def revoke_session(s: Session, user_id: int, session_id: int, *, ip: str = "") -> bool:
    res = s.exec(  # type: ignore[call-overload]
        update(AuthSession)
        .where(
            col(AuthSession.id) == session_id,
            col(AuthSession.user_id) == user_id,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=clock.now())
    )
    if res.rowcount == 1:
        audit.record(s, "session_revoked", actor_id=user_id, target=f"session:{session_id}", ip=ip)
    return res.rowcount == 1


def revoke_other_sessions(s: Session, user_id: int, keep_session_id: int | None, *, ip: str = "") -> int:
    q = update(AuthSession).where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
    if keep_session_id is not None:
        q = q.where(col(AuthSession.id) != keep_session_id)
    n = s.exec(q.values(revoked_at=clock.now())).rowcount  # type: ignore[call-overload]
    if n:
        audit.record(s, "session_revoked", actor_id=user_id, ip=ip, count=n)
    return n


# --- password reset and change ---------------------------------------------------------------


def send_password_reset(s: Session, email_raw: str) -> None:
    """Email a reset link if the address has an account. (The job's side of
    ``request_password_reset``.)"""
    email = normalize_email(email_raw)
    user = s.exec(select(User).where(User.email_index == email_index(email))).first()
    if user is None:
        return
    minutes = get_settings().reset_token_minutes
    token = issue_token(s, "reset_password", timedelta(minutes=minutes), user_id=user.id)
    mail.enqueue(
        s,
        "reset_password",
        user.email,
        {"name": user.name, "link": link(f"/reset/confirm?token={token}"), "minutes": minutes},
        user_id=user.id,
    )


def reset_token_valid(s: Session, token: str) -> bool:
    return peek_token(s, "reset_password", token) is not None


def reset_password(s: Session, token: str, new_password: str, client: ClientInfo | None = None) -> User:
    row = peek_token(s, "reset_password", token)
    if row is None:
        raise AuthError(BAD_LINK)
    user = s.get(User, row.user_id)
    if user is None:
        raise AuthError(BAD_LINK)
    if problem := passwords.password_problem(new_password, email=user.email, name=user.name):
        raise InputError(problem, "password")
    take_token(s, "reset_password", token)
    _set_password(s, user, new_password, keep_session_id=None, client=client)
    if user.email_verified_at is None:  # the reset link proved the address
        user.email_verified_at = clock.now()
    # unused reset links die with this one
    s.exec(  # type: ignore[call-overload]
        update(AuthToken)
        .where(col(AuthToken.user_id) == user.id, col(AuthToken.purpose) == "reset_password", col(AuthToken.used_at).is_(None))
        .values(used_at=clock.now())
    )
    s.exec(delete(LoginFailure).where(col(LoginFailure.key) == f"acct:{email_index(user.email)}"))  # type: ignore[call-overload]
    return user


def _set_password(
    s: Session, user: User, new_password: str, *, keep_session_id: int | None, client: ClientInfo | None
) -> None:
    now = clock.now()
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    s.add(user)
    audit.record(s, "password_changed", actor_id=user.id, ip=client.ip if client else "")
    revoke_other_sessions(s, user.id, keep_session_id, ip=client.ip if client else "")
    browser, os_name, _ = (client or ClientInfo()).parsed()
    mail.enqueue(
        s,
        "password_changed",
        user.email,
        {
            "name": user.name,
            "when": now.strftime("%Y-%m-%d %H:%M UTC"),
            "ip": (client.ip if client else "") or "unknown",
            "browser": browser,
            "link": link("/reset"),
        },
        user_id=user.id,
    )


def change_password(
    s: Session, actor: Actor, current: str, new_password: str, client: ClientInfo | None = None
) -> None:
    user = s.get(User, actor.user_id)
    if user is None:
        raise AuthError("Your session has ended. Please sign in again.")
    if user.password_hash and not passwords.verify_password(user.password_hash, current):
        raise InputError("Your current password is not correct.", "current_password")
    if problem := passwords.password_problem(new_password, email=user.email, name=user.name):
        raise InputError(problem, "new_password")
    _set_password(s, user, new_password, keep_session_id=actor.session_id, client=client)


# --- profile and email change ------------------------------------------------------------------


def current_user(s: Session, actor: Actor) -> User:
    user = s.get(User, actor.user_id)
    if user is None:
        raise AuthError(WRONG_CREDENTIALS)
    return user


def update_profile(s: Session, actor: Actor, *, name: str, marketing_opt_in: bool | None = None) -> User:
    user = s.get(User, actor.user_id)
    if user is None:
        raise AuthError("Your session has ended. Please sign in again.")
    user.name = clean_text(name, label="Name", field="name")
    if marketing_opt_in is not None:
        user.marketing_opt_in = marketing_opt_in
    s.add(user)
    return user


def request_email_change(s: Session, actor: Actor, password: str, new_email_raw: str) -> str:
    """Send a confirmation link to the new address; the address changes when it is opened."""
    user = s.get(User, actor.user_id)
    if user is None:
        raise AuthError("Your session has ended. Please sign in again.")
    new_email = normalize_email(new_email_raw, "new_email")
    if user.password_hash and not passwords.verify_password(user.password_hash, password):
        raise InputError("Your password is not correct.", "password")
    if new_email == user.email:
        raise InputError("That is already your email address.", "new_email")
    taken = s.exec(select(User.id).where(User.email_index == email_index(new_email))).first() is not None
    if not taken:
        token = issue_token(
            s, "change_email", timedelta(hours=get_settings().verify_token_hours), user_id=user.id, data=new_email
        )
        mail.enqueue(
            s,
            "email_change_verify",
            new_email,
            {"name": user.name, "link": link(f"/verify/email-change?token={token}")},
            user_id=user.id,
        )
    return new_email


def confirm_email_change(s: Session, token: str) -> User:
    row = take_token(s, "change_email", token)
    user = s.get(User, row.user_id)
    if user is None:
        raise AuthError(BAD_LINK)
    new_email = row.data
    if s.exec(select(User.id).where(User.email_index == email_index(new_email), User.id != user.id)).first() is not None:
        raise AuthError("That address is now used by another account.")
    old = user.email
    user.email = new_email
    user.email_verified_at = clock.now()
    s.add(user)
    audit.record(s, "email_changed", actor_id=user.id)
    mail.enqueue(
        s,
        "email_changed_notice",
        old,
        {"name": user.name, "new_email": new_email, "link": link("/reset")},
        user_id=user.id,
    )
    return user


# --- social sign-in ------------------------------------------------------------------------------


@dataclass
class SocialProfile:
    provider: str
    subject: str
    email: str
    email_verified: bool
    name: str


def social_sign_in(s: Session, profile: SocialProfile) -> tuple[User | None, str | None]:
    """(user, None) when the identity belongs to an account (linking a verified address to the
    account that has it), else (None, pending-sign-up token) for the finish-sign-up page."""
    ident = s.exec(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == profile.provider, OAuthIdentity.subject == profile.subject
        )
    ).first()
    if ident is not None:
        user = s.get(User, ident.user_id)
        if user is not None:
            return user, None
    email = ""
    try:
        email = normalize_email(profile.email) if profile.email else ""
    except InputError:
        email = ""
    if email and profile.email_verified:
        user = s.exec(select(User).where(User.email_index == email_index(email))).first()
        if user is not None:
            s.add(OAuthIdentity(user_id=user.id, provider=profile.provider, subject=profile.subject))
            if user.email_verified_at is None:
                user.email_verified_at = clock.now()
                s.add(user)
            return user, None
    data = json.dumps(
        {
            "provider": profile.provider,
            "subject": profile.subject,
            "email": email,
            "email_verified": bool(profile.email_verified and email),
            "name": profile.name[:100],
        }
    )
    return None, issue_token(s, "social_sign_up", timedelta(minutes=30), data=data)


def pending_social_profile(s: Session, token: str) -> dict | None:
    row = peek_token(s, "social_sign_up", token)
    return json.loads(row.data) if row else None


def finish_social_sign_up(
    s: Session, token: str, *, name: str, team: str, email_raw: str, age_confirmed: bool, policy_accepted: bool,
    marketing_opt_in: bool = False,
) -> User:
    row = peek_token(s, "social_sign_up", token)
    if row is None:
        raise AuthError("This sign-up has expired. Please start again.")
    info = json.loads(row.data)
    name = clean_text(name, label="Name", field="name")
    team = clean_text(team, label="Team or company name", field="team")
    email = normalize_email(info.get("email") or email_raw)
    if not age_confirmed:
        raise InputError("OmniPostr is for people aged 16 or older. Please confirm your age.", "age")
    if not policy_accepted:
        raise InputError("Please accept the privacy policy to create an account.", "policy")
    if s.exec(select(User.id).where(User.email_index == email_index(email))).first() is not None:
        raise InputError(
            "An account already uses this address. Sign in with your password, then connect this login.",
            "email",
        )
    take_token(s, "social_sign_up", token)
    now = clock.now()
    verified = info.get("email_verified") and email == info.get("email")
    user = User(
        name=name,
        email=email,
        password_hash=None,
        age_confirmed_at=now,
        email_verified_at=now if verified else None,
        marketing_opt_in=marketing_opt_in,
    )
    s.add(user)
    s.flush()
    s.add(OAuthIdentity(user_id=user.id, provider=info["provider"], subject=info["subject"]))
    _create_own_workspace(s, user, team)
    s.add(PolicyAcceptance(user_id=user.id, version=get_settings().privacy_policy_version))
    if not verified:
        send_verification(s, user)
    return user


# --- workspaces and members -------------------------------------------------------------------


@dataclass
class WorkspaceInfo:
    id: int
    name: str
    role: str


def workspaces_for(s: Session, user_id: int) -> list[WorkspaceInfo]:
    rows = s.exec(
        select(Workspace, Membership)
        .join(Membership, col(Membership.workspace_id) == col(Workspace.id))
        .where(Membership.user_id == user_id)
    ).all()
    # names are encrypted: sorted here, not by the database
    return sorted((WorkspaceInfo(id=w.id, name=w.name, role=m.role) for w, m in rows), key=lambda w: (w.name.casefold(), w.id))


def switch_workspace(s: Session, actor: Actor, workspace_id: int) -> None:
    m = s.exec(
        select(Membership).where(Membership.user_id == actor.user_id, Membership.workspace_id == workspace_id)
    ).first()
    if m is None:
        raise InputError("You are not a member of that workspace.")
    row = s.get(AuthSession, actor.session_id)
    if row is None or row.user_id != actor.user_id:
        raise AuthError("Your session has ended. Please sign in again.")
    row.workspace_id = workspace_id
    s.add(row)


def _require_manager(actor: Actor) -> None:
    if not actor.can_manage:
        raise InputError("Only the workspace's owner or admins can do that.")


def rename_workspace(s: Session, actor: Actor, name: str) -> Workspace:
    _require_manager(actor)
    ws = s.get(Workspace, actor.workspace_id)
    ws.name = clean_text(name, label="Workspace name", field="workspace_name")
    s.add(ws)
    return ws


@dataclass
class MemberInfo:
    user_id: int
    name: str
    email: str
    role: str
    joined_at: datetime


def list_members(s: Session, actor: Actor) -> list[MemberInfo]:
    rows = s.exec(
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.workspace_id == actor.workspace_id)
        .order_by(col(Membership.id))
    ).all()
    return [MemberInfo(u.id, u.name, u.email, m.role, m.created_at) for u, m in rows]


def list_invites(s: Session, actor: Actor) -> list[Invite]:
    now = clock.now()
    return list(
        s.exec(
            select(Invite)
            .where(
                Invite.workspace_id == actor.workspace_id,
                col(Invite.accepted_at).is_(None),
                col(Invite.revoked_at).is_(None),
                Invite.expires_at > now,
            )
            .order_by(col(Invite.id).desc())
        ).all()
    )


def invite_member(s: Session, actor: Actor, email_raw: str, role: str = "member") -> Invite:
    _require_manager(actor)
    email = normalize_email(email_raw, "invite_email")
    if role not in ("admin", "member"):
        raise InputError("Choose the role Admin or Member.", "invite_role")
    if role == "admin" and actor.role != "owner":
        raise InputError("Only the owner can invite admins.", "invite_role")
    already = s.exec(
        select(User.id)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(User.email_index == email_index(email), Membership.workspace_id == actor.workspace_id)
    ).first()
    if already is not None:
        raise InputError("That person is already a member of this workspace.", "invite_email")
    for old in list_invites(s, actor):
        if old.email == email:
            old.revoked_at = clock.now()
            s.add(old)
    token = new_token()
    inv = Invite(
        workspace_id=actor.workspace_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by_id=actor.user_id,
        expires_at=clock.now() + timedelta(days=get_settings().invite_days),
    )
    s.add(inv)
    s.flush()
    ws = s.get(Workspace, actor.workspace_id)
    inviter = s.get(User, actor.user_id)
    mail.enqueue(
        s,
        "invite",
        email,
        {
            "inviter_name": inviter.name if inviter else "A teammate",
            "workspace_name": ws.name if ws else "a workspace",
            "role": role,
            "link": link(f"/invite?token={token}"),
            "days": get_settings().invite_days,
        },
    )
    return inv


def revoke_invite(s: Session, actor: Actor, invite_id: int) -> None:
    _require_manager(actor)
    inv = s.get(Invite, invite_id)
    if inv is None or inv.workspace_id != actor.workspace_id:
        raise InputError("That invitation no longer exists.")
    inv.revoked_at = clock.now()
    s.add(inv)


@dataclass
class InvitePreview:
    workspace_name: str
    inviter_name: str
    email: str
    role: str


def preview_invite(s: Session, token: str) -> InvitePreview | None:
    inv = _live_invite(s, token)
    if inv is None:
        return None
    ws = s.get(Workspace, inv.workspace_id)
    inviter = s.get(User, inv.invited_by_id) if inv.invited_by_id else None
    return InvitePreview(ws.name if ws else "", inviter.name if inviter else "", inv.email, inv.role)


def _live_invite(s: Session, token: str) -> Invite | None:
    if not token or len(token) > 200:
        return None
    inv = s.exec(select(Invite).where(Invite.token_hash == token_hash(token))).first()
    if inv is None or inv.accepted_at or inv.revoked_at or inv.expires_at < clock.now():
        return None
    return inv


def accept_invite(s: Session, user_id: int, token: str, session_id: int | None = None) -> int:
    """Join the invite's workspace; returns its id. The invite must be for the user's address."""
    inv = _live_invite(s, token)
    if inv is None:
        raise AuthError("This invitation is invalid, was withdrawn or has expired. Ask for a new one.")
    user = s.get(User, user_id)
    if user is None or user.email != inv.email:
        raise AuthError(
            f"This invitation was sent to {inv.email}. Sign in with that address to accept it."
        )
    done = s.exec(  # type: ignore[call-overload]
        update(Invite).where(col(Invite.id) == inv.id, col(Invite.accepted_at).is_(None)).values(accepted_at=clock.now())
    )
    if done.rowcount != 1:
        raise AuthError("This invitation has already been used.")
    exists = s.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == inv.workspace_id)
    ).first()
    if exists is None:
        s.add(Membership(workspace_id=inv.workspace_id, user_id=user.id, role=inv.role))
    if user.email_verified_at is None:  # the invite link proved the address
        user.email_verified_at = clock.now()
        s.add(user)
    if session_id is not None:
        row = s.get(AuthSession, session_id)
        if row is not None and row.user_id == user.id:
            row.workspace_id = inv.workspace_id
            s.add(row)
    s.flush()
    return inv.workspace_id


def remove_member(s: Session, actor: Actor, user_id: int) -> None:
    m = s.exec(
        select(Membership).where(Membership.workspace_id == actor.workspace_id, Membership.user_id == user_id)
    ).first()
    if m is None:
        raise InputError("That person is not a member of this workspace.")
    if user_id == actor.user_id:
        if m.role == "owner":
            raise InputError("The owner cannot leave their own workspace.")
    else:
        _require_manager(actor)
        if m.role == "owner":
            raise InputError("The owner cannot be removed.")
        if m.role == "admin" and actor.role != "owner":
            raise InputError("Only the owner can remove an admin.")
    s.delete(m)
    s.exec(  # type: ignore[call-overload]
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.workspace_id) == actor.workspace_id)
        .values(workspace_id=None)
    )


def change_role(s: Session, actor: Actor, user_id: int, role: str) -> None:
    if actor.role != "owner":
        raise InputError("Only the owner can change roles.")
    if role not in ("admin", "member"):
        raise InputError("Choose the role Admin or Member.")
    m = s.exec(
        select(Membership).where(Membership.workspace_id == actor.workspace_id, Membership.user_id == user_id)
    ).first()
    if m is None or m.role == "owner":
        raise InputError("That role cannot be changed.")
    m.role = role
    s.add(m)


def role_label(role: str) -> str:
    return {"owner": "Owner", "admin": "Admin", "member": "Member"}.get(role, role.title())


# Spent tokens, old sign-in failures and ended sessions are deleted by the retention jobs
# (``omnipostr.retention.service``), which read their periods from the settings.
