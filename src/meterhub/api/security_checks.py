"""What stops the server from starting in production mode (pure: settings in, problems out)."""

from __future__ import annotations

from meterhub.core.settings import DEFAULT_SECRET_KEY, Environment, Settings

__all__ = ["InsecureSettingsError", "production_problems"]

MIN_SECRET_LENGTH = 32
# token_urlsafe(48) has ~40 distinct characters of 64; 12 refuses "aaaa…", "abab…" and a row of spaces.
MIN_DISTINCT_CHARACTERS = 12


class InsecureSettingsError(RuntimeError):
    pass


def production_problems(settings: Settings) -> list[str]:
    """Every reason the settings are unsafe for METERHUB_ENV=production (empty in development)."""
    if settings.env != Environment.PRODUCTION:
        return []
    problems = []
    if settings.secret_key == DEFAULT_SECRET_KEY:
        problems.append(
            "METERHUB_SECRET_KEY is the shipped default; set a random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    elif len(settings.secret_key.strip()) < MIN_SECRET_LENGTH:
        problems.append(
            f"METERHUB_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters (not counting spaces)"
        )
    elif len(set(settings.secret_key)) < MIN_DISTINCT_CHARACTERS:
        problems.append(
            f"METERHUB_SECRET_KEY has fewer than {MIN_DISTINCT_CHARACTERS} different characters; "
            "it is not random — generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    if not settings.cookie_secure:
        problems.append("METERHUB_COOKIE_SECURE must be true in production (serve the cabinet over HTTPS)")
    return problems
