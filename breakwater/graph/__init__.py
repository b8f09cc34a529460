"""Draw the state machine: transitions, a layered layout, Mermaid text and a matplotlib picture.

Three modules, each with one job:

* ``edges``: the transitions of the parsed ASL, what each decision means (``decisions()``, from the source's
  ``x-decisions``), counts from execution paths, and Mermaid text;
* ``layout``: a layered (Sugiyama-style) layout, hand-written;
* ``draw``: the matplotlib picture (``render``) with the breaker state band.

The layout stays hand-written rather than Graphviz's ``dot``: the pictures must come out the same on every
machine without a system package (``make demo`` needs only the Python environment), the console draws the
same layout in the browser from ``layout()``'s coordinates, and for a graph of about 40 states a few
hundred lines of layering, crossing reduction and placement are enough.
"""

from __future__ import annotations

from breakwater.graph.draw import OUTCOME_COLOURS, PICTURE_FORMATS, box_lines, render
from breakwater.graph.edges import counts_from_paths, decision, decisions, edges, path_transitions, to_mermaid
from breakwater.graph.layout import LAYER_SPACING, NODE_WIDTH, layout

__all__ = [
    "LAYER_SPACING",
    "NODE_WIDTH",
    "OUTCOME_COLOURS",
    "PICTURE_FORMATS",
    "box_lines",
    "counts_from_paths",
    "decision",
    "decisions",
    "edges",
    "layout",
    "path_transitions",
    "render",
    "to_mermaid",
]
