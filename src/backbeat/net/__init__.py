"""Network safety shared by every service: the URL-safety guard (SSRF rules)."""

from backbeat.net.url_guard import (
    Allowlist,
    Resolver,
    SafeUrl,
    UrlGuard,
    UrlPolicy,
    address_problem,
    parse_numeric_ipv4,
    policy_from_settings,
    system_resolver,
)

__all__ = [
    "Allowlist",
    "Resolver",
    "SafeUrl",
    "UrlGuard",
    "UrlPolicy",
    "address_problem",
    "parse_numeric_ipv4",
    "policy_from_settings",
    "system_resolver",
]
