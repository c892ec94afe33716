"""A real IPython kernel driven over ZMQ with jupyter_client, stdin included."""

from __future__ import annotations

import os
import queue
import time

from jupyter_client.manager import start_new_kernel


class KernelSession:
    def __init__(self, env=None, **launch):
        # The kernel inherits PYTHONPATH: under `make test`'s Colab step it runs
        # on Colab's IPython, ipykernel and ipywidgets.
        env = env or dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", startup_timeout=120, env=env, **launch)

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def execute(self, code, replies=(), timeout=180, on_input=None):
        """Runs `code`, once more if the kernel aborted it (see `_execute_once`)."""
        for _ in range(3):
            result = self._execute_once(code, replies, timeout, on_input)
            if result["status"] != "aborted":
                return result
            # ipykernel 5 (Colab's) aborts requests that arrive within a short
            # window after a cell failed (stop_on_error_timeout): send it again.
            time.sleep(0.5)
        raise AssertionError(f"the kernel kept aborting {code[:80]!r}")

    def _execute_once(self, code, replies, timeout, on_input):
        """Runs `code`; answers input requests with `replies` (pdb commands).

        Returns a dict: stdout text, error (ename, evalue, traceback) or None,
        the comm messages seen, and `stops`: what `on_input()` returned at each
        input request (after the updates sent before the prompt were read).
        """
        message_id = self.client.execute(code, allow_stdin=True)
        replies = list(replies)
        result = {"stdout": "", "error": None, "comms": [], "stops": [], "prompts": [],
                  "order": [], "execution_count": None, "displays": []}
        deadline = time.monotonic() + timeout
        idle = False
        while not idle:
            if time.monotonic() > deadline:
                raise TimeoutError(f"kernel did not finish within {timeout}s: {code[:80]!r}")
            try:
                request = self.client.get_stdin_msg(timeout=0.05)
            except queue.Empty:
                request = None
            if request is not None and request["msg_type"] == "input_request":
                self._drain(message_id, result, quiet_for=0.5)
                result["prompts"].append(request["content"]["prompt"])
                if on_input is not None:
                    result["stops"].append(on_input(result))
                if not replies:
                    raise AssertionError(f"pdb asked for more input than scripted:\n{result['stdout']}")
                self.client.input(replies.pop(0))
            idle = self._drain(message_id, result, quiet_for=0.05)
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != message_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        result["execution_count"] = reply["content"].get("execution_count")
        result["status"] = reply["content"]["status"]
        if reply["content"]["status"] == "error" and result["error"] is None:
            # UsageError: IPython prints it to stderr; only the reply names it.
            result["error"] = (reply["content"]["ename"], reply["content"]["evalue"], "")
        return result

    def _drain(self, message_id, result, quiet_for):
        """Reads iopub until it is quiet; True once the request's idle status arrived."""
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=quiet_for)
            except queue.Empty:
                return False
            if message["parent_header"].get("msg_id") != message_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind in ("stream", "error"):
                result["order"].append(content.get("name", kind))
            if kind == "stream":
                result[content["name"]] = result.get(content["name"], "") + content["text"]
            elif kind == "error":
                result["error"] = (content["ename"], content["evalue"],
                                   "\n".join(content["traceback"]))
            elif kind in ("display_data", "execute_result"):
                result["displays"].append(sorted(content["data"]))
            elif kind in ("comm_open", "comm_msg"):
                result["comms"].append(content)
            elif kind == "status" and content["execution_state"] == "idle":
                return True


def widget_value(comms, model_id):
    """The last `value` the kernel pushed for widget `model_id`, or None."""
    value = None
    for content in comms:
        if content.get("comm_id") != model_id:
            continue
        state = content.get("data", {}).get("state", {})
        if "value" in state:
            value = state["value"]
    return value
