"""Scripts hold no user-visible text of their own (issue 19 item 1, decision 0028): every
message a module in static/js shows comes translated from the page's data block, through
``message()`` in static/js/ui.js (docs/translating.md, "JavaScript")."""

from __future__ import annotations

import re
from pathlib import Path

from authdemo import PROJECT_ROOT
from authdemo.i18n import SCRIPT_MESSAGES

SCRIPTS = PROJECT_ROOT / "static" / "js"
#: The modules whose messages every page carries (authdemo.i18n.SCRIPT_MESSAGES).
SHARED = ("api.js", "ui.js")

_COMMENT = re.compile(r"/\*.*?\*/|^\s*//.*?$|\s//\s.*?$", re.DOTALL | re.MULTILINE)
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`')
#: Prose: starts with a capital letter and has at least two words ("Show password"), as
#: opposed to keys, selectors, URLs, event names and developers' errors.
_PROSE = re.compile(r"[A-Z][a-z']+ [a-z]")
_DEVELOPERS = re.compile(r"new Error\(|console\.\w+\(")


def prose_in(path: Path) -> list[str]:
    """The string literals in a module that read as words for a person."""
    code = _COMMENT.sub("", path.read_text())
    found = []
    for line in code.splitlines():
        if _DEVELOPERS.search(line):
            continue
        for match in _LITERAL.finditer(line):
            text = next(group for group in match.groups() if group is not None)
            if _PROSE.match(text):
                found.append(text)
    return found


def test_no_script_holds_text_for_people_of_its_own():
    holding = {path.name: prose_in(path) for path in sorted(SCRIPTS.glob("*.js"))}
    holding = {name: texts for name, texts in holding.items() if texts}
    assert not holding, f"take these from the page's data block with message(): {holding}"


def test_the_check_sees_a_message_of_a_scripts_own(tmp_path: Path):
    module = tmp_path / "example.js"
    module.write_text(
        '// "Not this: a comment"\n'
        'import { message } from "./ui.js";\n'
        'showStatus(status, "Your passkey is ready.", "success");\n'
        'throw new Error("Developers read this one");\n'
        'element.textContent = message("ready");\n'
    )
    assert prose_in(module) == ["Your passkey is ready."]


def test_the_shared_modules_use_only_messages_every_page_carries():
    used = {
        key
        for name in SHARED
        for key in re.findall(r'message\(\s*"(\w+)"', (SCRIPTS / name).read_text())
    }
    used |= {
        key
        for name in SHARED
        for pair in re.findall(
            r'message\(\s*\w+ \? "(\w+)" : "(\w+)"', (SCRIPTS / name).read_text()
        )
        for key in pair
    }
    assert used, "the shared modules show no message at all?"
    assert used <= set(SCRIPT_MESSAGES), sorted(used - set(SCRIPT_MESSAGES))
