"""The personal data accounts keep (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, select

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
)
from omnipostr.crypto import email_index
from omnipostr.personal_data import Holding, pick, plain


def _user(s, user) -> list[dict]:
    row = s.get(User, user.id)
    if row is None:
        return []
    return [
        pick(row, "id", "name", "email", "email_verified_at", "age_confirmed_at", "created_at", "last_login_at",
             "last_active_at", "restrict_processing", "marketing_opt_in", "password_changed_at")
        | {"has_password": row.password_hash is not None}
    ]


def _workspaces(s, user) -> list[dict]:
    rows = s.exec(
        select(Workspace, Membership).join(Membership, col(Membership.workspace_id) == Workspace.id)
        .where(Membership.user_id == user.id).order_by(col(Workspace.id))
    ).all()
    return [
        pick(w, "id", "name", "plan", "data_region", "created_at")
        | {"role": m.role, "member_since": plain(m.created_at), "owner": w.owner_id == user.id}
        for w, m in rows
    ]


def _memberships(s, user) -> list[dict]:
    rows = s.exec(select(Membership).where(Membership.user_id == user.id).order_by(col(Membership.id))).all()
    return [pick(m, "workspace_id", "role", "created_at") for m in rows]


def invites_to(s, email: str) -> list[Invite]:
    """Invitations sent to ``email`` (addresses are encrypted: each one is compared by its
    blind index)."""
    me = email_index(email)
    return [i for i in s.exec(select(Invite).order_by(col(Invite.id))).all() if email_index(i.email) == me]


def requests_for(s, email: str) -> list[AccountRequest]:
    """Account mail asked for at ``email`` and not sent yet (a job takes each within a second)."""
    me = email_index(email)
    rows = s.exec(select(AccountRequest).order_by(col(AccountRequest.id))).all()
    return [r for r in rows if email_index(str((r.payload or {}).get("email", ""))) == me]


def _invites(s, user) -> list[dict]:
    """Invitations sent to this user's address (the ones they sent hold someone else's)."""
    return [
        pick(i, "workspace_id", "email", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
        for i in invites_to(s, user.email)
    ]


def _sessions(s, user) -> list[dict]:
    rows = s.exec(select(AuthSession).where(AuthSession.user_id == user.id).order_by(col(AuthSession.id))).all()
    return [
        pick(r, "created_at", "last_seen_at", "expires_at", "revoked_at", "ip", "user_agent", "browser", "os",
             "device", "method", "workspace_id")
        for r in rows
    ]


def _devices(s, user) -> list[dict]:
    rows = s.exec(select(KnownDevice).where(KnownDevice.user_id == user.id).order_by(col(KnownDevice.id))).all()
    return [pick(r, "first_seen_at", "last_seen_at") for r in rows]


def _tokens(s, user) -> list[dict]:
    rows = s.exec(select(AuthToken).where(AuthToken.user_id == user.id).order_by(col(AuthToken.id))).all()
    return [pick(r, "purpose", "created_at", "expires_at", "used_at") for r in rows]


def _requests(s, user) -> list[dict]:
    return [pick(r, "kind", "created_at") for r in requests_for(s, user.email)]


def _failures(s, user) -> list[dict]:
    rows = s.exec(select(LoginFailure).where(LoginFailure.key == f"acct:{email_index(user.email)}")).all()
    return [pick(r, "at") for r in rows]


def _acceptances(s, user) -> list[dict]:
    rows = s.exec(select(PolicyAcceptance).where(PolicyAcceptance.user_id == user.id).order_by(col(PolicyAcceptance.id))).all()
    return [pick(r, "version", "accepted_at") for r in rows]


def _identities(s, user) -> list[dict]:
    rows = s.exec(select(OAuthIdentity).where(OAuthIdentity.user_id == user.id).order_by(col(OAuthIdentity.id))).all()
    return [pick(r, "provider", "subject", "created_at") for r in rows]


CONTRACT = "contract: running the account you opened"
SECURITY = "legitimate interest: keeping accounts secure"

HOLDINGS = [
    Holding("users", "account", "Your name, email address, whether it is confirmed, when you signed up and last signed in, "
            "your privacy choices. Your password only as a one-way hash, which is never exported.",
            "Create and run your account, sign you in.", CONTRACT, "account", _user, erase="delete"),
    Holding("workspaces", "account", "The workspaces you belong to: their names, plan and data region.",
            "Share work with your team.", CONTRACT, "account", _workspaces, erase="delete"),
    Holding("memberships", "account", "Your role in each workspace.", "Decide what you may do in a workspace.",
            CONTRACT, "account", _memberships),
    Holding("invites", "account", "Invitations sent to your address.", "Let you join a workspace.", CONTRACT,
            "invite", _invites),
    Holding("sessions", "device", "Each signed-in browser: IP address, browser, system, device type, when it was used.",
            "Keep you signed in; let you see and end your sessions.", SECURITY, "session", _sessions),
    Holding("known_devices", "device", "Browsers you have signed in from (a one-way fingerprint).",
            "Warn you of a sign-in from a new device.", SECURITY, "session", _devices),
    Holding("auth_tokens", "account", "One-time links we emailed you (only a hash of each).",
            "Confirm your address, reset your password.", CONTRACT, "token", _tokens),
    Holding("account_requests", "communication", "Account mail you asked for, until it is sent (seconds).",
            "Send sign-up, confirmation and reset mail.", CONTRACT, "transient", _requests),
    Holding("login_failures", "device", "Failed sign-ins to your address (a one-way hash of it) and from IP addresses.",
            "Slow down password guessing.", SECURITY, "failure", _failures),
    Holding("policy_acceptances", "consent", "Which version of the privacy policy you accepted, and when.",
            "Prove what you agreed to.", "legal obligation: records of consent", "account", _acceptances),
    Holding("oauth_identities", "account", "The Google or GitHub account you sign in with (its id there).",
            "Sign you in with it.", CONTRACT, "account", _identities),
]

NOT_PERSONAL: dict[str, str] = {}
