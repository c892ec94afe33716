"""An LSTM language model as TF1 code: embedding from get_variable, a
MultiRNNCell of two LSTMCells, dynamic_rnn, and a softmax layer that
predicts the token after the sequence (logits of the last step)."""

import tensorflow as tf

v1 = tf.compat.v1


class TF1LSTMLanguageModel(tf.keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, tokens, training=False):
        vocabulary, hidden = self.sizes.classes, self.sizes.hidden
        with v1.variable_scope("lm", initializer=v1.random_uniform_initializer(-0.1, 0.1)):
            embedding = v1.get_variable("embedding", [vocabulary, hidden])
            inputs = v1.nn.embedding_lookup(embedding, tokens)
            cell = v1.nn.rnn_cell.MultiRNNCell(
                [v1.nn.rnn_cell.LSTMCell(hidden, forget_bias=0.0) for _ in range(2)])
            outputs, _ = v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
            softmax_w = v1.get_variable("softmax_w", [hidden, vocabulary])
            softmax_b = v1.get_variable("softmax_b", [vocabulary])
            return tf.matmul(outputs[:, -1], softmax_w) + softmax_b
