"""The example notebook runs top to bottom in a real Jupyter kernel at small settings: the
intro sweep, a custom grid and its phase diagram, a model of your own, figures inline, a live progress bar."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole runs from the CLI or several processes

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).parents[1] / "docs" / "example.ipynb"


def test_example_notebook_runs_top_to_bottom(tmp_path):
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
  assert len(parameters) == 1
  parameters[0].source = f"STEPS = 300\nSEEDS = 1\nOUT = {str(tmp_path)!r}"
  nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                          resources={"metadata": {"path": str(tmp_path)}}).execute()
  outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  # Figures display inline as images; the progress bar renders as HTML in the cell.
  images = [o for o in outputs if "image/png" in o.get("data", {})]
  assert len(images) >= 3
  bars = [o for o in outputs if "<progress" in o.get("data", {}).get("text/html", "")]
  assert bars and all("100.0%" in o["data"]["text/plain"] for o in bars)
  assert (tmp_path / "elhage_intro" / "results.nc").exists()
  assert (tmp_path / "my_phase_grid" / "results.nc").exists()
  assert (tmp_path / "gelu_toy" / "results.nc").exists()
