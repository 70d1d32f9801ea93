"""Every knob of OmniPostr in one place.

Environment variables use the prefix ``OMNIPOSTR_`` (``OMNIPOSTR_DATABASE_URL``...), and a
``.env`` file in the working directory is read too. The Anthropic key is also accepted under
its usual name, ``ANTHROPIC_API_KEY``. Secrets are ``SecretStr``: they never print.
Without any configuration the app runs on its embedded defaults: a SQLite file, the offline
engine, and mail kept for the operator (the terminal and a mailbox opened with a key printed
at start-up).
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNIPOSTR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- where and how the app runs -------------------------------------------------------
    env: Literal["development", "production", "test"] = "development"
    base_url: str = "http://localhost:3000"
    """The public origin users reach (scheme://host:port). Links in emails use it."""
    backend_url: str = ""
    """Where the back end answers, when not at ``base_url``: only ``make dev``, whose
    hot-reloading front end has its own port. Empty: the back end is at ``base_url``."""
    extra_origins: list[str] = Field(default_factory=list)
    """More origins allowed by CORS, besides ``base_url``."""
    data_dir: Path = PROJECT_ROOT / "data"
    """The SQLite database (embedded default) and nothing secret."""
    keys_dir: Path = PROJECT_ROOT / "keys"
    """Where the embedded default creates its key files (``secret.key``, ``content.key``) when
    ``secret_key`` / ``encryption_keys`` are not set: a folder of their own, owner-only, apart
    from the data, so one copy of ``data_dir`` (or a database backup) decrypts nothing. Back
    it up separately."""
    database_url: str = ""
    """SQLAlchemy URL. Empty: a SQLite file in ``data_dir``."""
    secret_key: SecretStr | None = None
    """Signs tokens and keys the blind indexes. Empty: a random key is created once in
    ``keys_dir``."""
    encryption_keys: SecretStr | None = None
    """Comma-separated Fernet keys for content at rest, newest first. Empty: one is created
    once in ``keys_dir``."""
    redis_url: str = Field(default="", validation_alias=AliasChoices("OMNIPOSTR_REDIS_URL", "REFLEX_REDIS_URL"))
    """Several processes: Redis keeps the pages' state (sealed) and the rate-limit counters.
    Empty: one process keeps both in memory."""
    log_level: str = "INFO"
    log_format: Literal["", "text", "json"] = ""
    """``text`` (key=value) or ``json`` (one object a line). Empty: json in production, text
    otherwise."""
    trusted_proxy_hops: int = 0
    metrics_token: SecretStr | None = None
    """When set, ``/metrics`` and the detailed ``/health`` answer only to
    ``Authorization: Bearer <token>``."""
    csp_report_only: bool = False
    """Send the Content-Security-Policy as ``-Report-Only`` (to try a stricter policy out)."""

    # --- accounts and sessions ------------------------------------------------------------
    session_days: int = 30
    session_idle_days: int = 14
    login_max_failures_per_account: int = 10
    login_max_failures_per_ip: int = 50
    login_lockout_minutes: int = 15
    verify_token_hours: int = 48
    reset_token_minutes: int = 60
    invite_days: int = 7
    min_password_length: int = 10
    privacy_policy_version: str = "2025-11-24"

    # --- privacy and retention ---------------------------------------------------------------
    export_link_days: int = 7
    """A data export can be downloaded this long after it is ready; then it is deleted."""
    retention_source_days: int = 90
    """Original content (a source's text) is kept this long, or until the user deletes it."""
    retention_history_days: int = 365
    """Generation history is kept this long."""
    retention_account_days: int = 90
    """Account data is kept this long after the subscription ends."""
    retention_inactive_days: int = 365
    """A free account (every account, until billing) that nobody signed in to or used for this
    long has ended, as a subscription ends: it is deleted ``retention_account_days`` later."""
    retention_warning_days: int = 14
    """The owner of an account that is to be deleted for inactivity is emailed this long before."""
    retention_usage_days: int = 365
    """Usage events (what was done in the app and when, no content) are kept this long."""
    retention_session_days: int = 30
    """A session, once ended (signed out, expired or idle), and a browser no longer seen are kept
    this long (for the user's list of sessions and security questions)."""
    retention_token_days: int = 1
    """One-time links and invitations are kept this long after they were used, withdrawn or expired."""
    retention_login_failure_days: int = 1
    """Failed sign-ins (the throttling counters) are kept this long."""
    retention_batch_size: int = 500
    """Rows a retention job changes per transaction, so a run never holds the database long."""

    # --- billing (Stripe) -------------------------------------------------------------------
    stripe_secret_key: SecretStr | None = None
    """Stripe's secret API key. Empty: billing is off and every workspace is on Free with the
    local limits of the plans file."""
    stripe_webhook_secret: SecretStr | None = None
    """The signing secret of the ``/billing/webhook`` endpoint (``whsec_...``)."""
    stripe_api_base: str = "https://api.stripe.com"
    """Where Stripe's API answers (the loopback Stripe of the demo and the tests sets it)."""
    stripe_webhook_tolerance_seconds: int = 300
    """A webhook signed longer ago than this is refused (a replay)."""
    billing_plans_file: str = ""
    """The plans file (see ``omnipostr/billing/plans.toml``). Empty: that file."""
    billing_record_years: int = 7
    api_ip_requests_per_minute: int = 600
    """REST API requests one address may make a minute, whatever keys it uses (each key's own
    limit is its workspace plan's ``api_requests_per_minute``)."""
    """Invoices are kept this long after they were issued (the tax period), even after the
    account is deleted; they hold no content."""

    # --- Claude ---------------------------------------------------------------------------
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OMNIPOSTR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str = "https://api.anthropic.com"
    claude_model: str = "claude-sonnet-5-5"
    claude_max_tokens: int = 2048
    claude_concurrency: int = 10
    claude_timeout_seconds: float = 60.0
    claude_max_retries: int = 4
    allow_loopback_http_ai: bool = True
    """The Claude engine accepts http:// only for loopback addresses (test servers)."""

    # --- sources -----------------------------------------------------------------------------
    upload_max_bytes: int = 10 * 1024 * 1024
    source_max_chars: int = 200_000
    url_import_timeout_seconds: float = 10.0
    url_import_max_bytes: int = 5 * 1024 * 1024
    allow_private_urls: bool = False
    """Test environments only: let URL import fetch loopback/private addresses."""

    # --- email ----------------------------------------------------------------------------
    smtp_host: str = ""
    """Empty: no mail leaves the machine. Outside production it is kept for the operator: the
    terminal says when mail is waiting, and the mailbox at ``/dev/mail`` opens only with the
    key printed at start-up."""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "OmniPostr <no-reply@omnipostr.local>"
    outbox_max_attempts: int = 8
    account_mail_per_address_per_hour: int = 3
    """Sign-up, confirmation and password-reset mail a visitor can ask for to one address:
    at most this many an hour."""
    account_mail_per_ip_per_hour: int = 20
    """The same, asked for from one IP address."""

    # --- generation work ----------------------------------------------------------------
    generation_worker: Literal["embedded", "off"] = "embedded"
    """``embedded``: the app process starts a generation worker process of its own (the default
    of ``make run``). ``off``: only separate workers write generations
    (``python -m omnipostr.repurpose.worker``), the production shape with several web processes."""
    cpu_processes: int = -1
    """Processes for the CPU work of the embedded worker: -1 one per core, 0 none (threads of
    the worker process)."""
    generation_concurrency: int = 16
    """Generations one worker runs at once (their CPU work shares its processes)."""
    offline_stream_delay: float = 0.0
    """Seconds between two pieces of the offline engine's stream (0: as fast as it can); a
    demo knob, to watch posts fill in as they would from Claude."""
    task_lease_seconds: float = 10.0
    """A worker renews its lease on a task every third of this; when a worker dies, another
    takes its task over this long after its last renewal."""

    # --- jobs -----------------------------------------------------------------------------
    jobs_enabled: bool = True
    job_lease_seconds: int = 30
    job_runs_keep_days: int = 30
    outbox_interval_seconds: float = 5.0
    outbox_keep_days: int = 30
    """Sent mail is kept this long (for support), then deleted."""
    outbox_failed_keep_days: int = 90
    audit_keep_days: int = 365
    """Audit log entries (sign-ins, password and address changes, privacy events) are kept this
    long, then deleted by a daily job."""

    # --- backups ----------------------------------------------------------------------------
    backup_dir: str = ""
    """Where backups go (``python -m omnipostr backup`` and the daily job): a folder created
    owner-only, files 0600. Empty: ``backups`` in ``data_dir``. A backup holds the database
    only, encrypted columns as ciphertext, and never the keys: back ``keys_dir`` up apart."""
    backup_keep: int = Field(default=7, ge=1)
    """The backup job keeps this many newest backups in ``backup_dir`` and deletes older ones."""
    backup_cron: str = "30 2 * * *"
    """When the backup job runs (crontab syntax, UTC): daily at 02:30 by default."""

    # --- sign in with ... -----------------------------------------------------------------
    google_client_id: str = ""
    google_client_secret: SecretStr | None = None
    google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    github_client_id: str = ""
    github_client_secret: SecretStr | None = None
    github_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105 (a URL)
    github_api_url: str = "https://api.github.com"

    # --- contact ----------------------------------------------------------------------------
    company_name: str = "OmniPostr"
    support_email: str = "support@omnipostr.com"
    privacy_email: str = "privacy@omnipostr.com"
    support_response_business_days: int = 2
    """How soon support answers, as the contact page says."""
    privacy_inquiry_business_days: int = 5
    """How soon a privacy question is answered (the policy says 5 business days)."""
    privacy_request_days: int = 30
    """How soon a privacy rights request is answered (the policy says 30 days)."""
    privacy_request_extension_days: int = 60
    """How far the one extension of a rights request moves its due date (GDPR art. 12(3):
    by two further months where needed, the requester told why)."""
    privacy_request_alert_days: int = 3
    """The privacy team is emailed once about an open request this many days before its due
    date (or once it is overdue)."""

    @field_validator("backup_cron")
    @classmethod
    def _check_cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        CronTrigger.from_crontab(v)  # a bad expression fails at start, not at 02:30
        return v

    @field_validator("base_url", "backend_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    # --- derived ----------------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'omnipostr.db').as_posix()}"

    @property
    def backup_path(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.data_dir / "backups"

    @property
    def api_url(self) -> str:
        """The back end's origin (Reflex's ``api_url``)."""
        return self.backend_url or self.base_url

    def backend_path(self, path: str) -> str:
        """A link or form action to a back-end route: ``path`` itself when one origin
        serves both (``make run``, production), the back end's own address under ``make dev``."""
        return path if self.api_url == self.base_url else self.api_url + path

    def page_url(self, path: str) -> str:
        """Where a back-end route sends the browser back to a page: ``path`` itself when one
        origin serves both, the front end's address under ``make dev``."""
        return path if self.api_url == self.base_url else self.base_url + path

    @property
    def cors_origins(self) -> list[str]:
        """The app's own origin (and its loopback twin: localhost and 127.0.0.1 are the same
        machine to a person) plus any configured extra origins."""
        out = [self.base_url]
        for a, b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
            if a in self.base_url:
                out.append(self.base_url.replace(a, b))
        return [*out, *self.extra_origins]

    @property
    def claude_enabled(self) -> bool:
        return bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value())

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_client_id and self.github_client_secret)

    def _key_file(self, name: str, make) -> str:
        return key_file(self.keys_dir, name, make, legacy_dir=self.data_dir)

    def signing_key(self) -> bytes:
        if self.secret_key and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        return self._key_file("secret.key", lambda: secrets.token_urlsafe(48)).encode()

    def fernet_keys(self) -> list[str]:
        if self.encryption_keys and self.encryption_keys.get_secret_value():
            return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]
        from cryptography.fernet import Fernet

        files = content_key_files(self.keys_dir)
        if not files:  # the first key (or an older install's, moved here)
            return [self._key_file("content.key", lambda: Fernet.generate_key().decode())]
        return [f.read_text().strip() for f in files]


def key_file(folder: Path, name: str, make, *, legacy_dir: Path | None = None) -> str:
    """Read the key file ``folder/name``, creating it (and its owner-only folder) once.

    Installs from before keys had a folder of their own kept them beside the database: such
    a file is moved here, so the data it encrypted stays readable."""
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        old = legacy_dir / name if legacy_dir is not None else None
        if old is not None and old.exists() and old.resolve() != path.resolve():
            os.replace(old, path)
        else:
            # created owner-only from the start: no moment where another user could read it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(make())
    path.chmod(0o600)
    return path.read_text().strip()


def content_key_files(folder: Path) -> list[Path]:
    """The content key files in ``folder``, newest first: ``content-<n>.key`` by falling
    ``n``, then ``content.key`` (the first key, number 1). Removing an old one drops that key."""
    found = []
    for path in folder.glob("content*.key"):
        if m := re.fullmatch(r"content(?:-([1-9][0-9]*))?\.key", path.name):
            found.append((int(m.group(1) or 1), path))
    return [path for _, path in sorted(found, reverse=True)]


def add_content_key_file(folder: Path) -> Path:
    """Create the next content key file (owner-only), which makes it the newest key."""
    from cryptography.fernet import Fernet

    files = content_key_files(folder)
    number = 1 + max((int(re.sub(r"\D", "", f.name) or 1) for f in files), default=1)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"content-{number}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Fernet.generate_key().decode())
    return path


@functools.cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()
