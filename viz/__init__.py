"""chainrule's pictures of the chain rule.

- :func:`draw_dot`: the lecture's graph (label | data | grad per value, op nodes).
- :func:`draw_graph`: the same graph with local derivatives and contributions on edges,
  contributions by colour and width, nn modules as clusters or collapsed neurons.
- :func:`draw_network`: a model as neurons and weights, ∂loss/∂w summed over the batch (or
  one sample's own), the same size for any batch.
- :func:`draw_paths`: every path from a leaf to the root, each with its product of local
  derivatives, and their sum checked against backward; :func:`draw_modes`: forward mode
  (tangents) beside reverse mode (adjoints) on every node.
- :func:`explain`: the backward pass as text, one line per edge.
- :func:`write_stepper`: a self-contained HTML page stepping through backward;
  :func:`stepper` shows it inline in a notebook.
- :func:`write_training` (from ``nn.fit(..., record_every=N)``'s History): training over
  time, the network view per snapshot, the loss curve, the decision plane.
- :func:`write_practice`, :func:`practice`: the backward pass as an exercise, on a page or
  inline in a notebook; :data:`LESSONS` names the built-in exercises.
- :func:`plot_history`, :func:`plot_decision_boundary`, :func:`decision_figure`: training plots
  (needs matplotlib).
- :func:`render`, :func:`save_source`: write a graph to a file (SVG/PNG/PDF, or DOT source);
  every ``dot`` run is time-limited (:class:`RenderTimeout`, fallbacks that say so).
"""

from .dot import draw_dot
from .exercise import exercise
from .explain import explain
from .graph import GraphTooLarge, draw_graph
from .lessons import LESSONS, lesson
from .network import draw_network
from .paths import draw_modes, draw_paths
from .plots import decision_figure, plot_decision_boundary, plot_history
from .practice import Practice, practice, practice_html, write_practice
from .render import Graph, GraphvizNotFound, RenderTimeout, render, save_source, set_time_limit
from .stepper import Stepper, stepper, stepper_html, write_stepper
from .training import Training, TrainingRecorder, training, training_html, write_training

__all__ = [
    "draw_dot", "draw_graph", "draw_network", "draw_paths", "draw_modes", "explain", "write_stepper",
    "stepper_html", "stepper", "Stepper", "write_practice", "practice_html", "practice", "Practice",
    "exercise", "LESSONS", "lesson", "plot_history", "plot_decision_boundary", "decision_figure",
    "render", "save_source", "set_time_limit", "Graph", "GraphvizNotFound", "RenderTimeout", "GraphTooLarge",
    "TrainingRecorder", "write_training", "training_html", "training", "Training",
]
