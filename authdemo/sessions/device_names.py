"""A coarse name to suggest for this browser's session: "Chrome on Android" (issue 17
item 12).

Only the browser's family and the platform's, parsed from the User-Agent by ua-parser
(the maintained port of the uap-core rules, not a hand-written parser), never a version,
a device model or anything finer. The suggestion is computed while the sessions page is
rendered and put in the device-name field; it is stored only if the person saves the
field (GDPR Art 5(1)(c), Art 25(2): data protection by default). The raw User-Agent is
never stored or logged.
"""

from __future__ import annotations

from flask_babel import gettext as _

#: ua-parser family -> the name people know. Families not listed are shown as parsed.
_BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "HeadlessChrome": "Chrome",
    "Chromium": "Chromium",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet",
}
_PLATFORMS = {
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
}
#: Longer than this is not a family name but something odd: suggest nothing.
_MAX_PART = 24
#: Real User-Agents are a few hundred characters; a longer one is not parsed at all, so a
#: crafted header cannot make the rules' regular expressions work for long.
MAX_USER_AGENT = 512


def _clean(family: str | None, names: dict[str, str]) -> str | None:
    if not family or family == "Other" or len(family) > _MAX_PART:
        return None
    return names.get(family, family)


def suggest(user_agent: str | None) -> str | None:
    """ "Chrome on Android", "Safari on iOS"; None unless both the browser and the
    platform are known (a tool such as curl, an odd header: the field stays empty)."""
    if not user_agent or len(user_agent) > MAX_USER_AGENT:
        return None
    # Imported on first use: ua-parser loads PyYAML and its rules, which a worker needs
    # only once someone opens the sessions page (tests/unit/test_worker_imports.py).
    from ua_parser import parse_os, parse_user_agent

    parsed_browser = parse_user_agent(user_agent)
    browser = _clean(parsed_browser.family if parsed_browser else None, _BROWSERS)
    if browser is None:
        return None
    parsed_os = parse_os(user_agent)
    platform = _clean(parsed_os.family if parsed_os else None, _PLATFORMS)
    if platform is None:
        return None
    # Translators: a suggested name for a session, such as "Chrome on Android"; the
    # person may save it as the session's name.
    return str(_("%(browser)s on %(platform)s", browser=browser, platform=platform))
