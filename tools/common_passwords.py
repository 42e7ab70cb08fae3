"""Write ``authdemo/data/common-passwords.txt``, the password blocklist, from zxcvbn.

The app refuses the 30,000 most common passwords of zxcvbn's "passwords" frequency list
(built from leaked password corpora). Importing zxcvbn for it cost every worker that
checks a password about 17 MB (all six frequency lists, then a set); the shipped file,
casefolded and sorted, costs about 4 MB once loaded. zxcvbn stays a test dependency: a
unit test checks the file still matches it.

    .venv/bin/python tools/common_passwords.py
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

OUTPUT = Path(__file__).resolve().parent.parent / "authdemo" / "data" / "common-passwords.txt"


def entries() -> list[str]:
    """zxcvbn's "passwords" list as the app compares it: casefolded, unique, sorted."""
    words = sorted({word.casefold() for word in FREQUENCY_LISTS["passwords"]})
    if any(not w or w.startswith("#") or w != w.strip() or "\n" in w for w in words):
        raise SystemExit("an entry would be read back differently from the file")
    return words


def header() -> str:
    version = importlib.metadata.version("zxcvbn")
    return (
        f'# The "passwords" frequency list of zxcvbn {version}: common passwords from leaked\n'
        "# corpora, casefolded and sorted, one per line. Refused as new passwords\n"
        "# (authdemo/fallback/passwords.py). Regenerate: python tools/common_passwords.py\n"
        "# zxcvbn: MIT License, Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.;\n"
        "# Python port: MIT License, Copyright (c) 2016 Daniel Wolf.\n"
    )


def main() -> None:
    words = entries()
    OUTPUT.write_text(header() + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} entries to {OUTPUT}")


if __name__ == "__main__":
    main()
