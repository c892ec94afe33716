"""The README's *Use* example, run as a user would paste it into a notebook cell:
what its comments say is what it prints."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def use_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_weights_are_trainable_first_each_in_creation_order(shell):
    source = use_example()
    assert "trainable first" in source
    result = shell.run_cell(source + "\nreadme_names = [v.name for v in layer.weights]\n"
                                     "readme_layer = layer")
    assert result.success, result.error_in_exec
    names = shell.user_ns["readme_names"]
    layer = shell.user_ns["readme_layer"]
    trainable = [v.name for v in layer.trainable_weights]
    # Creation order of the TF1 code: conv2d, then batch_normalization, then dense.
    assert trainable == ["model/conv2d/kernel:0", "model/conv2d/bias:0",
                         "model/batch_normalization/gamma:0", "model/batch_normalization/beta:0",
                         "model/dense/kernel:0", "model/dense/bias:0"]
    assert names == trainable + ["model/batch_normalization/moving_mean:0",
                                 "model/batch_normalization/moving_variance:0"]
    shown = re.findall(r"'([\w/]+:0)'", source)
    assert shown == [n for n in names if n in shown] and shown[:3] == names[:3]
