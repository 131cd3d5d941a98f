"""The look every figure shares: part and finger colours, the two hands' styles, literal text.

Hands are drawn a colour per finger, the same for both hands; the signer's left hand solid with
filled dots, the right hand dashed with open dots. Where a hand is one line (trajectories,
missing rates) the left and right hands have colours of their own.
"""
from __future__ import annotations

# Left and right hands in distinct colours where a hand is one line (trajectories, missing
# rates); body in neutral.
SEGMENT_COLOURS = {
    "body": "tab:gray", "pose": "tab:gray", "face": "tab:olive",
    "left_hand": "tab:blue", "right_hand": "tab:red",
}
# One colour per finger, the same on both hands; the palm (wrist to knuckles) dark grey.
FINGER_COLOURS = {"thumb": "tab:red", "index": "tab:orange", "middle": "tab:green", "ring": "tab:blue",
                  "pinky": "tab:purple", "palm": "0.4"}
# Under the legend title "fingers": "little" is the pinky, "palm" the wrist-to-knuckle lines.
FINGER_LABELS = {"thumb": "thumb", "index": "index", "middle": "middle", "ring": "ring", "pinky": "little",
                 "palm": "palm"}
# The hands told apart by line and dot, as their colours are the fingers'.
HAND_STYLES = {"left_hand": {"ls": "-", "filled": True}, "right_hand": {"ls": (0, (2.2, 1.2)), "filled": False}}
# The face has 70 points in a small area: thinner lines and dots keep the hands readable.
SEGMENT_STYLE = {"face": {"lw": 0.6, "s": 1.5}}
DEFAULT_STYLE = {"lw": 1.4, "s": 6}


def literal_text(text) -> str:
    """`text` as matplotlib should draw it, character for character.

    Matplotlib reads any text with two unescaped `$` as mathtext: a clip name or sentence like
    `costs $5 or $6` is drawn garbled, and `$\\frac$` makes saving the figure raise. Escaping every
    `$` keeps it literal (matplotlib drops the escape when drawing).
    """
    return str(text).replace("$", r"\$")
