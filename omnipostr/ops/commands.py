"""The operator's commands behind ``python -m omnipostr``: each takes the parsed arguments,
prints what it did, and returns the exit status (0 done, 1 failed, 2 refused)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from omnipostr import crypto
from omnipostr.ops import backup, keys
from omnipostr.settings import content_key_files, get_settings


def _where_keys() -> str:
    cfg = get_settings()
    if cfg.encryption_keys and cfg.encryption_keys.get_secret_value():
        return "OMNIPOSTR_ENCRYPTION_KEYS and OMNIPOSTR_SECRET_KEY"
    return f"{cfg.keys_dir}/"


def _key_names() -> dict[str, str]:
    """Where each configured content key comes from, by key id."""
    cfg = get_settings()
    if cfg.encryption_keys and cfg.encryption_keys.get_secret_value():
        return {crypto.key_id(k): f"OMNIPOSTR_ENCRYPTION_KEYS #{i + 1}" for i, k in enumerate(cfg.fernet_keys())}
    return {crypto.key_id(f.read_text()): str(f) for f in content_key_files(cfg.keys_dir)}


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


# --- backups ---------------------------------------------------------------------------------


def backup_cmd(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        made = backup.make_backup(args.to)
    except backup.BackupError as e:
        return _fail(str(e))
    print(f"backup written: {made}  ({made.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
    if args.to is None:  # the installation's own database, not a copy made elsewhere
        backup.record("backup", by="command", size=made.stat().st_size)
    print("It holds the database only (encrypted fields as ciphertext). The keys are not in it:")
    print(f"back up {_where_keys()} separately; without them the backup cannot be read.")
    return 0


def restore_cmd(args: argparse.Namespace) -> int:
    try:
        source = backup.summarize_backup(args.file)
        target = backup.summarize_database(keys=False)
    except backup.BackupError as e:
        return _fail(str(e))
    configured = set(crypto.key_ids())
    missing = source.key_ids - configured
    print("This replaces the database")
    print(f"  {target.describe()}")
    print("with the backup")
    print(f"  {source.describe()}")
    print("Everything written to the database since that backup is lost.")
    if target.running:
        print(f"WARNING: an app process is running (it holds the job lease: {target.running}). Stop every app")
        print("process and worker before restoring.")
    if missing:
        ids = ", ".join(sorted(missing))
        print(f"WARNING: the backup holds values under keys that are not configured ({ids}): put back the keys")
        print(f"from the time of the backup ({_where_keys()}) or those values cannot be read.")
    if not args.yes:
        print("Nothing was changed. Run again with --yes to replace it.")
        return 2
    t0 = time.perf_counter()
    try:
        backup.restore(args.file)
    except backup.BackupError as e:
        return _fail(str(e))
    after = backup.summarize_database(keys=True)
    print(f"restored in {time.perf_counter() - t0:.1f} s: {after.describe()}")
    if unreadable := after.key_ids - configured:
        print(f"WARNING: values under keys that are not configured: {', '.join(sorted(unreadable))}")
    print("Next: python -m omnipostr.migrate (make run does it), then start the app.")
    return 0


# --- keys ------------------------------------------------------------------------------------


def keys_status_cmd(args: argparse.Namespace) -> int:
    crypto.reset_keys()
    names = _key_names()
    ids = crypto.key_ids()
    print("content keys, newest first:")
    for i, kid in enumerate(ids):
        print(f"  {kid}  {'newest' if i == 0 else 'older '}  {names.get(kid, '')}")
    rows = keys.status()
    seen = sorted({k for r in rows for k in r.by_key} - set(ids))
    columns = ids + seen
    width = max(len(f"{r.table}.{r.column}") for r in rows)
    print()
    print(f"{'values by key':<{width}}  " + "  ".join(f"{c:>9}" for c in columns))
    for r in rows:
        if r.total:
            print(f"{r.table + '.' + r.column:<{width}}  " + "  ".join(f"{r.by_key.get(c, 0):>9}" for c in columns))
    if empty := sum(1 for r in rows if not r.total):
        print(f"({empty} more encrypted columns hold no values)")
    older = sum(r.by_key.get(k, 0) for r in rows for k in ids[1:])
    print()
    if seen:
        bad = sum(r.by_key.get(k, 0) for r in rows for k in seen)
        print(f"{bad} values are under keys that are not configured ({', '.join(seen)}): they cannot be read.")
        print("Put those keys back; rotation stops at the first such value.")
    if older:
        print(f"{older} values are under older keys: python -m omnipostr keys rotate")
    elif len(ids) > 1 and not seen:
        print("Every value is under the newest key. Older keys may be removed once every app process runs")
        print("with the newest key (restarted after `keys new`) and no backup you keep needs them:")
        for kid in ids[1:]:
            print(f"  {kid}  {names.get(kid, '')}")
    elif not seen:
        print("Every value is under the newest key.")
    return 1 if seen else 0


def keys_new_cmd(args: argparse.Namespace) -> int:
    cfg = get_settings()
    if cfg.encryption_keys and cfg.encryption_keys.get_secret_value():
        from cryptography.fernet import Fernet

        key = Fernet.generate_key().decode()
        print("The content keys come from OMNIPOSTR_ENCRYPTION_KEYS. Put this new key first in it")
        print(f"(newest first, comma-separated), restart every app process, then run keys rotate:\n\n{key}\n")
        print(f"(its key id will be {crypto.key_id(key)})")
        return 0
    kid, path = crypto.add_key()
    print(f"new content key {kid} in {path}: it is now the newest key.")
    print("Next: restart every app process and worker (they read the keys when they start), then run")
    print("python -m omnipostr keys rotate. Back the keys folder up again: it has a new file.")
    return 0


def keys_rotate_cmd(args: argparse.Namespace) -> int:
    def progress(p: keys.Progress) -> None:
        print(f"  {p.table}: {p.done}/{p.total} rows ({100 * p.done // max(p.total, 1)}%)", flush=True)

    crypto.reset_keys()
    names = _key_names()
    newest = crypto.newest_key_id()
    print(f"re-encrypting under key {newest} ({names.get(newest, '')}), {args.batch} rows per transaction")
    try:
        result = keys.rotate(batch=args.batch, progress=progress)
    except crypto.UnknownKeyError as e:
        notes = "; ".join(getattr(e, "__notes__", []))
        return _fail(f"{e}\n  {notes}".rstrip())
    print(f"done: {result.rows} rows ({result.values} values) re-encrypted in {result.seconds:.1f} s.")
    backup.record("key_rotation", rows=result.rows, remaining=result.remaining)
    if result.remaining:
        print(f"{result.remaining} rows were written under an older key while this ran: is an app process still")
        print("running with the old keys? Restart it, then run keys rotate again.")
        return 1
    older = crypto.key_ids()[1:]
    if older:
        print("Every value is under the newest key. The older keys may now be removed, once no backup")
        listed = ", ".join(f"{k} ({names.get(k, '')})" for k in older)
        print(f"you keep needs them: {listed}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="back the database up (SQLite online backup, or pg_dump)",
                       description="Write a backup of the database into the backup folder "
                       "(OMNIPOSTR_BACKUP_DIR, default data/backups). Encrypted fields stay ciphertext; "
                       "the keys are not in it: back them up separately.")
    p.add_argument("--to", type=Path, metavar="DIR", help="write it into DIR instead")
    p.set_defaults(func=backup_cmd)

    p = sub.add_parser("restore", help="replace the database with a backup",
                       description="Replace the database with a backup (SQLite: .db, PostgreSQL: .dump "
                       "through pg_restore --clean --if-exists). Without --yes it only says what it "
                       "would replace. Stop every app process first; run the migrations after.")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--yes", action="store_true", help="really replace the database")
    p.set_defaults(func=restore_cmd)

    k = sub.add_parser("keys", help="content keys: status, new, rotate",
                       description="The content keys that encrypt everything users wrote.")
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    p = ksub.add_parser("status", help="how many values each key holds, per table and column")
    p.set_defaults(func=keys_status_cmd)
    p = ksub.add_parser("new", help="create a new content key and make it the newest")
    p.set_defaults(func=keys_new_cmd)
    p = ksub.add_parser("rotate", help="re-encrypt every value under the newest key (resumable)",
                        description="Re-encrypt every value not under the newest key, a batch of rows "
                        "per transaction. It can be stopped anywhere and run again.")
    p.add_argument("--batch", type=int, default=500, metavar="N", help="rows per transaction (default 500)")
    p.set_defaults(func=keys_rotate_cmd)
