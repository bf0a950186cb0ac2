"""What counts as text a person can read, and which characters change how text displays."""

from __future__ import annotations

import re

# A character that shows: not whitespace, not a control, not an invisible format character (soft
# hyphen, zero-width and direction marks, word joiners, BOM, tag characters and the other Cf
# characters), not a filler that renders as nothing (Hangul fillers, Braille blank) nor a variation
# selector. VISIBLE, the Basic Multilingual Plane part, is the OpenAPI ``pattern`` of such fields
# (the schema tools read no astral ranges); the server refuses the astral invisibles too.
VISIBLE = (
    "[^\\s\\x00-\\x1f\\x7f-\\x9f\\xad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f"
    "\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\ufeff"
    "\\uffa0\\ufff9-\\ufffb]"
)
_ASTRAL_INVISIBLE = "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a" \
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef"
_HAS_VISIBLE = re.compile(VISIBLE[:-1] + _ASTRAL_INVISIBLE + "]")

# Direction overrides, embeddings, isolates and marks: they make a text display otherwise than it
# reads (a name shown reversed beside a signature), so a sealed text carries none.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# The overrides, embeddings and isolates alone (not the marks, which Uyghur and other right-to-left
# text may carry): no text a person reads holds them. TEXT_PATTERN, the OpenAPI ``pattern`` of such
# fields, says both rules: one visible character, and none of these anywhere.
_OVERRIDES = "\\u202a-\\u202e\\u2066-\\u2069"
TEXT_PATTERN = f"^[^{_OVERRIDES}]*{VISIBLE}[^{_OVERRIDES}]*$"
_HAS_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def has_direction_overrides(text: str) -> bool:
    return _HAS_OVERRIDES.search(text) is not None


def has_visible(text: str) -> bool:
    """Whether ``text`` shows at least one character (not blank nor only invisible characters)."""
    return _HAS_VISIBLE.search(text) is not None


def has_bidi_controls(text: str) -> bool:
    return _BIDI_CONTROLS.search(text) is not None
