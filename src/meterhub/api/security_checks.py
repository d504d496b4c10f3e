"""What stops the server from starting in production mode (pure: settings in, problems out)."""

from __future__ import annotations

from meterhub.core.settings import DEFAULT_SECRET_KEY, Environment, Settings

__all__ = ["InsecureSettingsError", "production_problems"]

MIN_SECRET_LENGTH = 32


class InsecureSettingsError(RuntimeError):
    pass


def production_problems(settings: Settings) -> list[str]:
    """Every reason the settings are unsafe for METERHUB_ENV=production (empty in development)."""
    if settings.env is not Environment.PRODUCTION:
        return []
    problems = []
    if settings.secret_key == DEFAULT_SECRET_KEY:
        problems.append(
            "METERHUB_SECRET_KEY is the shipped default; set a random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    elif len(settings.secret_key) < MIN_SECRET_LENGTH:
        problems.append(f"METERHUB_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
    if not settings.cookie_secure:
        problems.append("METERHUB_COOKIE_SECURE must be true in production (serve the cabinet over HTTPS)")
    return problems
