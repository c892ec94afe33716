"""tf.compat.v1.nn.rnn_cell on tf1kit vs TF1 graph mode and vs the official shim.

The models (rnn_cases.py) cover every cell, wrapper and option through all
of TF's rnn functions; see that module for what is reported.
"""

import pytest

from differential import assert_same, case, graph_case, official, ours, tf1_graph
from rnn_cases import EAGER_RUNNER, GRAPH_RUNNER, MODELS

EAGER = case("rnn_models_eager", MODELS + EAGER_RUNNER)
GRAPH = graph_case("rnn_models_graph", MODELS + GRAPH_RUNNER)
NAMES = ["lstm_stack", "gru_bidirectional", "static_dropout", "variational",
         "static_bidirectional", "raw", "user_cells"]


@pytest.fixture(scope="module")
def tf1kit_results():
    return ours(EAGER)


@pytest.mark.parametrize("model", NAMES)
def test_rnn_cells_match_tf1_graph_mode(model, tf1kit_results):
    """Names, shapes, initial values, outputs, gradients and the cells'
    trainable_weights lists (where TF1 lists none for a wrapper) agree."""
    assert_same(tf1_graph(GRAPH)[model], tf1kit_results[model], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model", NAMES)
def test_rnn_cells_match_the_official_shim(model, tf1kit_results):
    assert_same(official(EAGER)[model], tf1kit_results[model], rtol=1e-5, atol=1e-6)


def test_tf1_variable_names(tf1kit_results):
    assert tf1kit_results["lstm_stack"]["names"] == [
        f"rnn/multi_rnn_cell/cell_{i}/lstm_cell/{name}:0"
        for i, names in ((0, ["bias", "kernel", "projection/kernel", "w_f_diag", "w_i_diag",
                              "w_o_diag"]), (1, ["bias", "kernel"]))
        for name in names]
    assert "bidirectional_rnn/fw/gru_cell/gates/kernel:0" in (
        tf1kit_results["gru_bidirectional"]["names"])
    assert tf1kit_results["user_cells"]["cell_weights"]["minimal"] == [
        "rnn/multi_rnn_cell/cell_0/minimal_cell/w:0",
        "rnn/multi_rnn_cell/cell_0/minimal_cell/b:0"]
