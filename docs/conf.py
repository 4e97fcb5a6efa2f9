"""Sphinx configuration of the sklearn-gmnm documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "agg")

import sklearn_gmnm  # noqa: E402

project = "sklearn-gmnm"
author = "The sklearn-gmnm developers"
copyright = "The sklearn-gmnm developers"
release = sklearn_gmnm.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- Markdown pages (the benchmark reports) ----------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
# The reports are written for GitHub: links to files outside the docs are
# fine there and must not fail the build here.
suppress_warnings = ["myst.xref_missing", "myst.header"]

# -- Example gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/(plot_|quickstart)",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklearn_gmnm",),
    "reference_url": {"sklearn_gmnm": None},
    "remove_config_comments": True,
    "plot_gallery": "True",
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-gmnm {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "install": [], "user_guide": []}


# -- Benchmark reports copied in at build time -------------------------------
REPORTS = {
    "RESULTS.md": ("results", "Benchmark results"),
    "PAPER.md": ("paper", "Function approximation: GMNM vs MLP vs KAN"),
}


def copy_reports() -> None:
    """Copy the markdown reports of ``benchmarks/`` into ``docs/_generated``.

    The reports change whenever the benchmarks are re-run; copying them at
    build time keeps one source. A missing report gets a short page saying so,
    and a report without a top-level title gets one, so the build never
    depends on the reports' exact form.
    """
    out = DOCS / "_generated"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    bench = ROOT / "benchmarks"
    for source, (name, title) in REPORTS.items():
        path = bench / source
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if not text.lstrip().startswith("# "):
                text = f"# {title}\n\n{text}"
        else:
            text = (
                f"# {title}\n\nThe report `benchmarks/{source}` has not been "
                "written yet; run the benchmark programs in `benchmarks/` to "
                "produce it.\n"
            )
        (out / f"{name}.md").write_text(text, encoding="utf-8")
    # Figures the reports link to, under the same relative paths.
    for figure in bench.rglob("*"):
        if figure.suffix.lower() in {".png", ".svg", ".jpg", ".jpeg"}:
            target = out / figure.relative_to(bench)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(figure, target)


copy_reports()
