"""Secret values encrypted at rest: the key file, round trips, the wrong key."""

from __future__ import annotations

import hashlib
import stat

import pytest
from cryptography.fernet import Fernet

from hangar.store.secret_box import (
    KEY_FILE_ENV,
    SecretBox,
    SecretsKeyError,
    default_key_file,
)

VALUE = "s3cr3t-value-ä-🔑"


def test_round_trip_and_ciphertext_hides_the_value():
    box = SecretBox(Fernet.generate_key())
    token = box.encrypt(VALUE)
    assert VALUE not in token
    assert box.encrypt(VALUE) != token, "a fresh IV every time"
    assert box.decrypt(token) == VALUE


def test_the_wrong_key_fails_clearly_without_the_value():
    token = SecretBox(Fernet.generate_key()).encrypt(VALUE)
    with pytest.raises(SecretsKeyError) as caught:
        SecretBox(Fernet.generate_key()).decrypt(token)
    assert "cannot be decrypted" in caught.value.message
    assert "--secrets-key-file" in caught.value.hint
    assert VALUE not in str(caught.value)


def test_an_altered_token_fails_like_the_wrong_key():
    box = SecretBox(Fernet.generate_key())
    token = box.encrypt(VALUE)
    with pytest.raises(SecretsKeyError):
        box.decrypt(token[:-4] + "AAAA")


def test_key_file_is_created_0600_then_reused(tmp_path):
    path = tmp_path / "conf" / "secrets.key"
    token = SecretBox.from_file(path).encrypt(VALUE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert SecretBox.from_file(path).decrypt(token) == VALUE


@pytest.mark.parametrize("content", [b"", b"not-a-fernet-key\n"])
def test_a_bad_key_file_is_refused_with_its_path(tmp_path, content):
    path = tmp_path / "secrets.key"
    path.write_bytes(content)
    with pytest.raises(SecretsKeyError) as caught:
        SecretBox.from_file(path)
    assert str(path) in caught.value.message
    assert caught.value.hint


def test_an_unwritable_key_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SecretsKeyError) as caught:
        SecretBox.from_file(blocker / "secrets.key")
    assert "--secrets-key-file" in caught.value.hint


def test_default_key_file_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "k"))
    assert default_key_file() == tmp_path / "k"
    monkeypatch.delenv(KEY_FILE_ENV)
    assert default_key_file().name == "secrets.key"


def test_digest_is_keyed_by_the_secrets_key_so_it_cannot_be_guessed_offline():
    box, other = SecretBox(Fernet.generate_key()), SecretBox(Fernet.generate_key())

    assert box.digest("abc") == box.digest("abc") != box.digest("abd")
    assert box.digest("abc") != other.digest("abc")  # the database alone does not tell
    assert box.digest("abc") != hashlib.sha256(b"abc").hexdigest()
    assert len(box.digest("abc")) == 64
