"""Drawing keypoints: skeletons from any FeatureLayout, in image coordinates (y down).

Everything is drawn from a `FeatureLayout` (layouts.py), so OpenPose BODY_25 + hands (+ face),
MediaPipe Pose 33 + hands and exported 1024-feature rows decoded through a manifest's layout all
go through the same code. A point at exactly (0, 0) is "not detected" and is never drawn, and
where the frames come with the estimator's confidence, points below `min_confidence` are treated
the same way. Hands are drawn a colour per finger, the same for both hands; the signer's left
hand solid with filled dots, the right hand dashed with open dots. Every limb line carries
`gid=<segment name>` so a test (or a curious user) can count them.

The modules, from the bottom up (each imports only those above it):
- style.py      colours, line styles, `literal_text` (text drawn as given, never as mathtext)
- framing.py    which points are drawn (`confident`, `upper_body`) and the view around them
- limbs.py      one frame on one axes: `draw_segment`, `draw_frame`
- hands.py      hand close-ups: `hand_bounds`, `draw_hand`
- legend.py     the parts and fingers legend below a figure
- skeletons.py  figures of frames: `skeleton_grid`, `frame_figure`, `figure_png`
- animation.py  `skeleton_animation`, a GIF of a clip
- charts.py     `trajectory_plot`, `missing_rate_chart`, `length_histogram`

Matplotlib is imported inside the functions that draw, so importing this package stays cheap.
"""
from __future__ import annotations

from slt_nb.plotting.animation import skeleton_animation
from slt_nb.plotting.charts import length_histogram, missing_rate_chart, point_tracks, trajectory_plot
from slt_nb.plotting.framing import (LOWER_BODY, MIN_CONFIDENCE, confidence_note, confident, finish_axes,
                                     point_bounds, signer_bounds, upper_body)
from slt_nb.plotting.hands import HANDS, draw_hand, hand_bounds
from slt_nb.plotting.legend import legend_entries, parts_drawn
from slt_nb.plotting.limbs import draw_frame, draw_segment
from slt_nb.plotting.skeletons import figure_png, frame_figure, skeleton_grid
from slt_nb.plotting.style import FINGER_COLOURS, FINGER_LABELS, HAND_STYLES, SEGMENT_COLOURS, literal_text

# Every public name of the single plotting.py this package replaced, importable as before.
__all__ = [
    "FINGER_COLOURS", "FINGER_LABELS", "HANDS", "HAND_STYLES", "LOWER_BODY", "MIN_CONFIDENCE", "SEGMENT_COLOURS",
    "confidence_note", "confident", "draw_frame", "draw_hand", "draw_segment", "figure_png", "finish_axes",
    "frame_figure", "hand_bounds", "legend_entries", "length_histogram", "literal_text", "missing_rate_chart",
    "parts_drawn", "point_bounds", "point_tracks", "signer_bounds", "skeleton_animation", "skeleton_grid",
    "trajectory_plot", "upper_body",
]
