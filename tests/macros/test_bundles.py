"""The committed front-end bundles are what `npm run build` makes from their sources, so
`make run` needs no npm and a reviewer reads the sources."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.node
@pytest.mark.parametrize(
    "source, committed",
    [
        ("static/customui/src/forge.js", "static/customui/app.js"),
        ("static/customui/src/connect.js", "static/connect/macro.js"),
        ("static/admin/src/forge.js", "static/admin/forge.js"),
        ("static/admin/src/connect.js", "static/admin/connect.js"),
        ("static/macroconfig/src/forge.js", "static/macroconfig/app.js"),
        ("static/macroconfig/src/connect.js", "static/macroconfig/connect.js"),
    ],
)
def test_committed_bundle_matches_its_sources(tmp_path, source, committed):
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        if os.environ.get("CI"):
            raise AssertionError("esbuild is required in CI (make test runs npm ci)")
        pytest.skip("esbuild not installed (run `npm ci`)")
    out = tmp_path / "bundle.js"
    subprocess.run(
        [
            str(esbuild),
            source,
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2019",
            f"--outfile={out}",
            "--log-level=error",
        ],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert out.read_bytes() == (ROOT / committed).read_bytes(), "run `npm run build` and commit the bundles"


def test_shell_and_iframe_page_load_only_local_assets():
    shell = (ROOT / "static/customui/index.html").read_text()
    assert 'src="app.js"' in shell and 'href="panel.css"' in shell
    assert "http" not in shell  # no CDN
    assert "http" not in (ROOT / "static/customui/panel.css").read_text()
