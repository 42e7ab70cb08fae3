"""One stylesheet, one design system (issue 17 item 11; docs/decisions/0025-design-system.md).

Read as a reviewer reads the files: the CSS in static/css/ and the templates.

- There is one stylesheet, and every page links it through ``base.html`` only.
- Colours are named once: a colour literal (``#hex``, ``rgb()``, ``hsl()``..., or a named
  colour such as ``white``) appears only as the value of a ``--color-*`` custom property
  in ``:root``; every other rule says ``var(--color-...)``.
- Spacing (margins, paddings, gaps) comes from the ``--space-*`` scale and type sizes from
  the ``--text-*`` scale (or ``em``, relative to the text around it).
- Every custom property used is defined.
- No template has a ``style`` attribute or a ``<style>`` element (the strict
  Content-Security-Policy would block them anyway, silently).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSS_DIR = ROOT / "static" / "css"
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "authdemo" / "compliance" / "templates"]

#: CSS Color Module Level 4 named colours (``transparent`` and ``currentcolor`` are not
#: colours of a palette, and stay allowed).
_NAMED = """\
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite
gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen
linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple
mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred
midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab
orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip
peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown royalblue
saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue
slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet
wheat white whitesmoke yellow yellowgreen"""
NAMED_COLOURS = frozenset(_NAMED.split())
_COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(", re.I)
_HEX = re.compile(r"#[0-9a-f]{3,8}\b", re.I)
_WORD = re.compile(r"(?<![\w-])[a-z]+(?![\w-])", re.I)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_VAR = re.compile(r"var\(\s*(--[\w-]+)")
_SPACING = re.compile(r"^(?:margin|padding|gap|row-gap|column-gap)(?:-[a-z]+)?$")
_SPACE_VALUE = re.compile(r"^(?:(?:var\(--space-\d\)|0|auto)\s*)+$")
_TEXT_VALUE = re.compile(r"^(?:var\(--text-[\w]+\)|inherit|[\d.]+em)$")


@dataclass(frozen=True)
class Declaration:
    file: str
    selector: str
    name: str
    value: str

    def __str__(self) -> str:
        return f"{self.file}: {self.selector} {{ {self.name}: {self.value} }}"


def declarations(css: str, file: str = "app.css") -> list[Declaration]:
    """Every ``name: value`` of every rule (the stylesheet has no nested at-rules)."""
    found = []
    for selector, body in _RULE.findall(_COMMENT.sub("", css)):
        for part in body.split(";"):
            if ":" in part:
                name, value = part.split(":", 1)
                selector = " ".join(selector.split())
                found.append(Declaration(file, selector, name.strip(), value.strip()))
    return found


def colour_literals(value: str) -> list[str]:
    # Quoted strings (font names) are not colours.
    value = re.sub(r"\"[^\"]*\"|'[^']*'", "", value)
    literals = _HEX.findall(value) + _COLOUR_FUNCTION.findall(value)
    return literals + [w for w in _WORD.findall(value) if w.lower() in NAMED_COLOURS]


def stylesheets() -> list[Path]:
    return sorted(CSS_DIR.glob("*.css"))


def all_declarations() -> list[Declaration]:
    return [d for path in stylesheets() for d in declarations(path.read_text(), path.name)]


def templates() -> list[Path]:
    return sorted(p for folder in TEMPLATE_DIRS for p in folder.rglob("*.html"))


def test_the_checks_recognise_what_they_look_for() -> None:
    # Guards the patterns: a test that cannot fail proves nothing.
    sample = declarations(".a { color: #fff; background: rgb(0 0 0); border-color: white }")
    assert [colour_literals(d.value) for d in sample] == [["#fff"], ["rgb("], ["white"]]
    assert colour_literals('var(--color-text); font-family: "Segoe UI", Roboto') == []
    assert not _SPACE_VALUE.match(".5rem 1rem")
    assert _SPACE_VALUE.match("var(--space-2) 0 auto")


def test_there_is_one_stylesheet_linked_once_from_the_base_template() -> None:
    assert [p.name for p in stylesheets()] == ["app.css"]
    linking = [p.name for p in templates() if 'rel="stylesheet"' in p.read_text()]
    assert linking == ["base.html"]


def test_colours_are_custom_properties_of_root_only() -> None:
    def palette(d: Declaration) -> bool:
        return d.selector == ":root" and d.name.startswith("--color-")

    misplaced = [str(d) for d in all_declarations() if colour_literals(d.value) and not palette(d)]
    assert misplaced == []


def test_root_defines_a_palette_spacing_and_type_scale() -> None:
    names = {d.name for d in all_declarations() if d.selector == ":root"}
    assert {n for n in names if n.startswith("--color-")}, "no palette"
    assert len({n for n in names if n.startswith("--space-")}) >= 4, "no spacing scale"
    assert len({n for n in names if n.startswith("--text-")}) >= 4, "no type scale"


def test_spacing_and_type_sizes_come_from_the_scales() -> None:
    off_scale = [
        str(d)
        for d in all_declarations()
        if (_SPACING.match(d.name) and not _SPACE_VALUE.match(d.value))
        or (d.name == "font-size" and d.selector != ":root" and not _TEXT_VALUE.match(d.value))
    ]
    assert off_scale == []


def test_every_custom_property_used_is_defined() -> None:
    found = all_declarations()
    defined = {d.name for d in found if d.name.startswith("--")}
    used = {name for d in found for name in _VAR.findall(d.value)}
    assert used - defined == set()


def test_no_template_styles_an_element_itself() -> None:
    inline = re.compile(r"<style\b|\sstyle\s*=", re.I)
    assert [str(p.relative_to(ROOT)) for p in templates() if inline.search(p.read_text())] == []
