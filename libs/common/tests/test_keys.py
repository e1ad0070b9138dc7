"""The signing key of a development installation: generated per installation, refused in production."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from yiwang_common import auth as auth_module
from yiwang_common.auth import Principal, TokenIssuer, TokenVerifier
from yiwang_common.config import ServiceSettings
from yiwang_common.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, development_keypair, generate_keypair

PRINCIPAL = Principal(sub="u1", name="张三", kind="natural_person")


class SigningSettings(ServiceSettings):
    """Stands in for the gateway: the one service that signs."""

    model_config = SettingsConfigDict(env_prefix="PROBESIGN_", env_nested_delimiter="__")
    signs_tokens = True


class VerifyingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROBEVERIFY_", env_nested_delimiter="__")


class TestDevelopmentKey:
    def test_first_start_creates_a_private_key_only_its_owner_can_read(self, tmp_path: Path) -> None:
        settings = SigningSettings(service_name="gateway", var_dir=tmp_path)
        private = tmp_path / "keys" / PRIVATE_KEY_FILE
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert settings.auth.private_key_pem.get_secret_value() == private.read_text()
        assert settings.auth.public_key_pem == (tmp_path / "keys" / PUBLIC_KEY_FILE).read_text()

    def test_two_installations_get_different_keys(self, tmp_path: Path) -> None:
        one = SigningSettings(service_name="gateway", var_dir=tmp_path / "one")
        two = SigningSettings(service_name="gateway", var_dir=tmp_path / "two")
        assert one.auth.public_key_pem != two.auth.public_key_pem
        token = TokenIssuer(one.auth).issue(PRINCIPAL)
        assert TokenVerifier(one.auth).verify(token).sub == "u1"
        with pytest.raises(auth_module.Unauthorized):
            TokenVerifier(two.auth).verify(token)

    def test_restarts_keep_the_key_and_verifiers_get_only_the_public_key(self, tmp_path: Path) -> None:
        signer = SigningSettings(service_name="gateway", var_dir=tmp_path)
        again = SigningSettings(service_name="gateway", var_dir=tmp_path)
        verifier = VerifyingSettings(service_name="management", var_dir=tmp_path)
        assert again.auth.private_key_pem.get_secret_value() == signer.auth.private_key_pem.get_secret_value()
        assert verifier.auth.private_key_pem.get_secret_value() == ""
        token = TokenIssuer(signer.auth).issue(PRINCIPAL)
        assert TokenVerifier(verifier.auth).verify(token).sub == "u1"

    def test_a_verifier_started_first_creates_the_pair_the_signer_then_uses(self, tmp_path: Path) -> None:
        verifier = VerifyingSettings(service_name="business", var_dir=tmp_path)
        signer = SigningSettings(service_name="gateway", var_dir=tmp_path)
        assert signer.auth.public_key_pem == verifier.auth.public_key_pem

    def test_the_code_holds_no_key(self) -> None:
        # A key derived from a constant would be the same for every installation, so forgeable.
        assert not hasattr(auth_module, "development_keypair")
        assert development_keypair.__module__ == "yiwang_common.keys"
        assert generate_keypair() != generate_keypair()


class TestProduction:
    def test_production_without_a_key_refuses_to_start(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="PROBESIGN_AUTH__PRIVATE_KEY_PEM"):
            SigningSettings(service_name="gateway", env="production", var_dir=tmp_path)
        with pytest.raises(ValueError, match="PROBEVERIFY_AUTH__PUBLIC_KEY_PEM"):
            VerifyingSettings(service_name="management", env="production", var_dir=tmp_path)
        assert not (tmp_path / "keys").exists()

    def test_production_from_the_environment_refuses_too(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("YIWANG_ENV", "production")
        with pytest.raises(ValueError, match="拒绝启动"):
            VerifyingSettings(service_name="management", var_dir=tmp_path)

    def test_production_with_configured_keys_starts_and_writes_nothing(self, tmp_path: Path) -> None:
        private_pem, public_pem = generate_keypair()
        settings = SigningSettings(
            service_name="gateway",
            env="production",
            var_dir=tmp_path,
            auth={"public_key_pem": public_pem, "private_key_pem": SecretStr(private_pem)},
        )
        token = TokenIssuer(settings.auth).issue(PRINCIPAL)
        assert TokenVerifier(settings.auth).verify(token).sub == "u1"
        assert not (tmp_path / "keys").exists()
