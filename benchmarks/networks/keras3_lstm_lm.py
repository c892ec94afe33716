"""The language model of tf1_lstm_lm.py written with native Keras 3 layers."""

import keras


class Keras3LSTMLanguageModel(keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(sizes.classes, sizes.hidden)
        self.lstm_1 = keras.layers.LSTM(sizes.hidden, return_sequences=True)
        self.lstm_2 = keras.layers.LSTM(sizes.hidden)
        self.logits = keras.layers.Dense(sizes.classes)

    def call(self, tokens, training=False):
        return self.logits(self.lstm_2(self.lstm_1(self.embedding(tokens))))
