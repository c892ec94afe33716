"""The inspector in a real JupyterLab, driven through headless Debian Chromium.

Everything stays on loopback: JupyterLab on 127.0.0.1 with a token, Chromium
with networking extras disabled. The demo notebook is generated into a temp
directory (no .ipynb files live in the repository's test tree).
"""

import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from conftest import extension_name
from nb_cells import NORMALIZED

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"


def ensure_chromium():
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing and this user cannot install it; "
                    "run `apt-get install -y chromium` as root.")
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True,
                   stdout=subprocess.DEVNULL)
    assert os.path.exists(CHROMIUM), "apt-get installed chromium but /usr/bin/chromium is missing"


def demo_notebook(path):
    cells = [
        f"%load_ext {extension_name()}\nimport numpy as np, keras, tensorflow as tf, tf1kit.notebook",
        NORMALIZED.format(name="Block"),
        "model = keras.Sequential([keras.Input((2,)), Block(name='block')])\n"
        "model(np.ones((2, 2), 'float32'))\n"
        "inspector = tf1kit.notebook.inspect(model)\ninspector",
        "x = np.random.RandomState(0).rand(64, 2).astype('float32') * 4 + 1\n"
        "model.compile(optimizer='sgd', loss='mse')\n"
        "model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0,\n"
        "          callbacks=[tf1kit.notebook.InspectorCallback()])\nprint('TRAINED')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    ensure_chromium()
    root = tmp_path_factory.mktemp("lab")
    demo_notebook(root / "demo.ipynb")
    # No "get notified about Jupyter news?" toast over the screenshot.
    news = root / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JUPYTER_CONFIG_DIR=str(root / "config"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"))
    command = [
        os.path.join(os.path.dirname(sys.executable), "jupyter"), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
        f"--LabApp.user_settings_dir={root / 'settings'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_server(port, token, server, root / "lab.log")
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def wait_for_server(port, token, server, log_path, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not start in {timeout}s:\n{log_path.read_text()[-3000:]}")


def run_command(page, command):
    page.evaluate(f"window.jupyterapp.commands.execute('{command}')")


def cell_text(page, name, column):
    """Text of one column of the inspector row for TF1 variable `name`."""
    row = page.locator(f'.tf1kit-variables tr[data-name="{name}"]').first
    return row.locator("td").nth(column).inner_text()


def test_inspector_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1100})
        try:
            page = browser.new_page()
            page.goto(f"{url}/lab/tree/demo.ipynb?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                timeout=90_000)
            # Run everything above the training cell.
            page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex = 3")
            run_command(page, "notebook:run-all-above")
            page.locator('.tf1kit-variables tr[data-name="bn/moving_mean"]').wait_for(
                timeout=120_000)
            names = page.locator(".tf1kit-variables tr").evaluate_all(
                "rows => rows.map(r => r.dataset.name).filter(Boolean)")
            assert names == ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]
            mean_before = cell_text(page, "bn/moving_mean", 4)
            # The training cell; the callback pushes the new values.
            run_command(page, "notebook:run-cell")
            page.locator(".jp-OutputArea-output pre", has_text="TRAINED").wait_for(timeout=120_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.tf1kit-inspector')]"
                ".some(e => e.textContent.includes('fit: finished'))", timeout=60_000)
            mean_after = cell_text(page, "bn/moving_mean", 4)
            page.locator(".tf1kit-inspector-root").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser_inspector.png"), full_page=True)
            assert mean_before == "0"
            assert mean_after != mean_before
            assert cell_text(page, "bn/moving_mean", 7) != ""  # change since last refresh
        finally:
            browser.close()
