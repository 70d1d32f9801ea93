"""Settings hygiene: every knob is declared in ``Settings`` and documented in
``.env.example``; nothing in the product reads a setting that is not declared."""

from __future__ import annotations

import re
import stat

from omnipostr.settings import PROJECT_ROOT, Settings, key_file


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^# (?:OMNIPOSTR_)?([A-Z_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M))
    declared = {name.upper() for name in Settings.model_fields}
    missing = sorted(n for n in declared if n not in documented and not (n == "ANTHROPIC_API_KEY" and n in documented))
    assert missing == []
    unknown = sorted(documented - declared)
    assert unknown == [], "documented but not declared"


def test_no_setting_is_read_without_being_declared():
    declared = set(Settings.model_fields) | {n for n in dir(Settings) if isinstance(getattr(Settings, n), property)}
    read = set()
    for path in (PROJECT_ROOT / "omnipostr").rglob("*.py"):
        read |= set(re.findall(r"getattr\((?:get_settings\(\)|settings|cfg|s), \"(\w+)\"", path.read_text()))
    assert read - declared == set()


def test_key_files_live_in_their_own_owner_only_folder(tmp_path):
    keys = tmp_path / "keys"
    value = key_file(keys, "content.key", lambda: "k3y")
    assert value == "k3y" and key_file(keys, "content.key", lambda: "other") == "k3y"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / "content.key").stat().st_mode) == 0o600


def test_an_older_install_keeps_its_keys_by_moving_them_out_of_the_data_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_text("old-secret")
    assert key_file(tmp_path / "keys", "secret.key", lambda: "new", legacy_dir=data) == "old-secret"
    assert not (data / "secret.key").exists()


def test_by_default_the_keys_are_not_in_the_data_folder():
    data, keys = Settings.model_fields["data_dir"].default, Settings.model_fields["keys_dir"].default
    assert keys.resolve() != data.resolve() and data.resolve() not in keys.resolve().parents
