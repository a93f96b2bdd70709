"""Typed readers of environment variables, shared by settings.py, conf.py and embedded.py.

A value that does not parse stops the process at start with ImproperlyConfigured naming the
variable, rather than failing later in the middle of a request.
"""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: str = "False") -> bool:
    value = os.environ.get(name, default)
    if value not in ("", "True", "False", "true", "false", "1", "0"):
        raise ImproperlyConfigured(f"{name} must be True or False, not {value!r}")
    return value in ("True", "true", "1")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_floats(name: str, default: str) -> list[float]:
    try:
        return [float(s) for s in env_str(name, default).split(",") if s.strip()]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be numbers separated by commas, not {env_str(name)!r}"
        ) from None


def env_secret(name: str) -> str:
    """A secret from NAME, or from the file NAME_FILE points at (Docker and systemd secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return os.environ.get(name, "")


def env_networks(name: str, default: str) -> list[Network]:
    networks = []
    for item in (i.strip() for i in env_str(name, default).split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an address or a network such as 10.0.0.0/8"
            ) from None
    return networks


def production() -> bool:
    return env_str("DJANGO_ENV", "dev") == "prod"


def data_dir() -> Path:
    """Where the embedded default keeps its database, media, worker state and secrets."""
    return Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "var")))


def static_root() -> Path:
    return Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
