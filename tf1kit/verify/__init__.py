"""`tf1kit.verify`: prove a migration step numerically, TF1 graph vs shim vs native.

`verify(layer, inputs, native=...)` returns a `VerifyReport` (plain data:
`ok`, `failures`, `rows`, `to_json()`); `assert_equivalent(...)` raises
AssertionError listing the worst failures. See `api.py`.
"""

from tf1kit.verify.api import assert_equivalent, verify
from tf1kit.verify.report import VerifyReport

__all__ = ["VerifyReport", "assert_equivalent", "verify"]
