"""The inspector and the lessons in a real JupyterLab, driven through headless
Debian Chromium (installed by `make browser`; the tests never install anything).

Everything stays on loopback: JupyterLab on 127.0.0.1 with a token, Chromium
with networking extras disabled. JupyterLab is set up as `make lessons` sets it
up: the lessons' kernel first on JUPYTER_PATH, lessons opened from copies. The
demo notebook is generated into a temp directory (no .ipynb files live in the
repository's test tree). Screenshots go to tests/artifacts/.
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

from nb_cells import NORMALIZED

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
LESSONS = REPOSITORY / "notebooks"
COPIED_LESSONS = ("01_why_and_setup.ipynb", "04_batch_norm_and_training.ipynb",
                  "10_interactive_debugging.ipynb")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"


def ensure_chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (as root), "
                    "or `make test`, which does it first.")


def demo_notebook(path):
    cells = [
        f"%load_ext tf1kit\nimport numpy as np, keras, tensorflow as tf, tf1kit.notebook",
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
    for name in COPIED_LESSONS:
        shutil.copy(LESSONS / name, root / name)
    sys.path.insert(0, str(LESSONS / "tools"))
    try:
        import quiet_kernel
    finally:
        sys.path.pop(0)
    quiet_kernel.install(root / "jupyter-path")
    # No "get notified about Jupyter news?" toast over the screenshot.
    news = root / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    # The lessons' environment: their kernel, and nothing else set for TensorFlow.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "MPLBACKEND"))}
    env.update(JUPYTER_CONFIG_DIR=str(root / "config"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               JUPYTER_PATH=str(root / "jupyter-path"))
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


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 1100})
        try:
            yield context
        finally:
            context.close()


def open_notebook(browser, lab, name, wait_for_kernel=True):
    url, token = lab
    page = browser.new_page()
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}")  # no tabs restored from before
    ready = ("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
             " && window.jupyterapp.shell.currentWidget.sessionContext"
             " && window.jupyterapp.shell.currentWidget.context.isReady")
    if wait_for_kernel:
        ready += (" && window.jupyterapp.shell.currentWidget.sessionContext.session"
                  " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel")
    page.wait_for_function(ready, timeout=90_000)
    return page


def scroll_to_cell(page, needle):
    """Shows the first cell whose source contains `needle` (JupyterLab renders
    only the cells near the viewport)."""
    index = page.evaluate("""async (needle) => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        for (let i = 0; i < notebook.model.cells.length; i++) {
            if (notebook.model.cells.get(i).sharedModel.getSource().includes(needle)) {
                notebook.activeCellIndex = i;
                await notebook.scrollToItem(i, "start");
                return i;
            }
        }
        return -1;
    }""", needle)
    assert index >= 0, f"no cell contains {needle!r}"


def test_inspector_in_jupyterlab(lab, browser):
    page = open_notebook(browser, lab, "demo.ipynb")
    try:
        # Run everything above the training cell.
        page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex = 3")
        run_command(page, "notebook:run-all-above")
        page.locator('.tf1kit-variables tr[data-name="bn/moving_mean"]').wait_for(
            timeout=120_000)
        names = page.locator(".tf1kit-inspector-root .tf1kit-variables tr").evaluate_all(
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
        assert cell_text(page, "bn/moving_mean", 8) == "used"  # the "last call" column
        # The Batch norm tab: a page of layers and the per-channel plot.
        page.locator(".tf1kit-inspector-root .lm-TabBar-tab, "
                     ".tf1kit-inspector-root .p-TabBar-tab", has_text="Batch norm").first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tf1kit-inspector-root img')]"
            ".some(img => img.naturalWidth > 300)", timeout=30_000)
        page.locator(".tf1kit-inspector-root").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "browser_inspector.png"), full_page=True)
        assert mean_before == "0"
        assert mean_after != mean_before
    finally:
        page.close()


def test_committed_lessons_show_their_inspectors_without_running(lab, browser):
    """What a reader sees on opening a lesson: the saved view, not a widget repr."""
    page = open_notebook(browser, lab, "10_interactive_debugging.ipynb", wait_for_kernel=False)
    try:
        scroll_to_cell(page, "%tf1inspect encoder")
        # JupyterLab sanitizes a saved notebook's HTML (no <style>, no data-*
        # attributes): find the row by its text.
        row = page.locator(".tf1kit-static tr", has_text="encoder/dense/kernel").first
        row.wait_for(timeout=60_000)
        row.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lesson10_as_opened.png"))
        assert row.locator("td").nth(1).inner_text() == "[3, 6]"
        assert page.locator("text=VBox(children=").count() == 0
        assert page.locator(".jp-OutputArea-output", has_text="Error displaying widget").count() == 0
    finally:
        page.close()
    page = open_notebook(browser, lab, "04_batch_norm_and_training.ipynb", wait_for_kernel=False)
    try:
        scroll_to_cell(page, "view = tf1kit.inspect(model)")
        plot = page.locator('.tf1kit-static img[src^="data:image/png"]').first
        plot.wait_for(timeout=60_000)
        plot.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # let the windowed notebook paint around it
        page.screenshot(path=str(ARTIFACTS / "lesson04_as_opened.png"))
        assert plot.evaluate("img => img.naturalWidth") > 300
        assert page.locator(".tf1kit-static tr", has_text="features/batch_normalization").count()
    finally:
        page.close()


def test_a_lesson_runs_without_tensorflow_start_up_lines(lab, browser):
    page = open_notebook(browser, lab, "01_why_and_setup.ipynb")
    try:
        run_command(page, "notebook:run-all-cells")
        scroll_to_cell(page, "scale = Scale()")
        last = page.locator(".jp-OutputArea-output pre", has_text="weights: ['scale/factor:0']")
        last.wait_for(timeout=180_000)
        page.screenshot(path=str(ARTIFACTS / "lesson01_after_running.png"))
        stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert stderr.count() == 0, stderr.all_inner_texts()
    finally:
        page.close()
