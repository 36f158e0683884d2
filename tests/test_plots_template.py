"""The offline page template of `dvc plots show` (pipeline/plots_template.py, .dvc/plots/offline.html)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from configobj import ConfigObj

from pipeline.plots_template import CONFIG_VALUE, EMBED_GLOBAL, ROOT, TEMPLATE_PATH, build_template


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of its script tags."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _loads_nothing(html: str) -> None:
    """No tag of the page points the browser at another file or site."""
    page = _Tags(html)
    links = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items() if name in ("src", "href")]
    assert links == []
    assert "https://cdn" not in html and "http://cdn" not in html
    assert '<script src="http' not in html


@pytest.fixture(scope="module")
def template() -> str:
    return build_template()


def test_committed_template_is_what_the_generator_writes_now(template: str):
    assert TEMPLATE_PATH.exists(), "run: python -m pipeline.plots_template"
    assert TEMPLATE_PATH.read_text(encoding="utf8") == template, (
        "the committed template differs from what the installed vl-convert-python and DVC give: run python -m pipeline.plots_template"
    )


def test_project_config_points_dvc_at_the_template():
    config = ConfigObj(str(ROOT / ".dvc" / "config"))
    assert config["plots"]["html_template"] == CONFIG_VALUE
    assert (ROOT / ".dvc" / CONFIG_VALUE).resolve() == TEMPLATE_PATH.resolve()


def test_template_inlines_the_libraries_and_keeps_dvc_placeholders(template: str):
    assert "{plot_divs}" in template
    assert "{scripts}" not in template  # else DVC adds its CDN script tags
    assert template.count("{plot_divs}") == 1
    _loads_nothing(template)
    page = _Tags(template)
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [{"type": "text/javascript"}]
    assert len(page.scripts[0]) > 500_000  # vega + vega-lite + vega-embed, not a loader
    assert f"window.{EMBED_GLOBAL}=" in page.scripts[0].replace(" ", "")


def test_generated_note_says_how_to_regenerate(template: str):
    head = template[:1000]
    assert "python -m pipeline.plots_template" in head and "do not edit" in head


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    env["DVC_NO_ANALYTICS"] = "1"
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_dvc_plots_show_writes_a_page_that_loads_nothing(tmp_path: Path):
    """The real `dvc plots show` in a toy repo that has the project's plots setting and template."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _dvc(repo, "init", "--no-scm", "-q")
    setting = ConfigObj(str(ROOT / ".dvc" / "config"))["plots"]["html_template"]
    with open(repo / ".dvc" / "config", "a", encoding="utf8") as config:
        config.write(f"    check_update = false\n[plots]\n    html_template = {setting}\n")
    (repo / ".dvc" / setting).parent.mkdir(parents=True)
    shutil.copy(ROOT / ".dvc" / setting, repo / ".dvc" / setting)
    (repo / "loss.csv").write_text("epoch,train_loss,val_loss\n1,2.5,2.7\n2,1.9,2.2\n3,1.4,1.8\n")
    (repo / "dvc.yaml").write_text("plots:\n  - loss.csv:\n      x: epoch\n      y: val_loss\n")

    _dvc(repo, "plots", "show", "-o", "out")

    html = (repo / "out" / "index.html").read_text(encoding="utf8")
    _loads_nothing(html)
    page = _Tags(html)
    bundle = _Tags(TEMPLATE_PATH.read_text(encoding="utf8")).scripts[0]
    assert page.scripts[0] == bundle  # the inlined libraries, first, before any plot
    plot_divs = [attrs["id"] for tag, attrs in page.tags if tag == "div" and "id" in attrs]
    assert len(plot_divs) == 1 and len(page.scripts) == 2
    assert f"{EMBED_GLOBAL}('#{plot_divs[0]}', spec)" in page.scripts[1]
    assert '"val_loss"' in page.scripts[1] and "vega-lite/v5" in page.scripts[1]
    assert "{plot_divs}" not in html and "{scripts}" not in html and "{refresh_tag}" not in html
