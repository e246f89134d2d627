"""What `pip install` puts on a machine: the product with its transforms inside, and the lab.

``transforms/`` stays at the top of the repository; ``src/metric_backfill/transforms`` links to
it, so the wheel ships it as ``metric_backfill/transforms`` and the editable install (``src`` on
the path) imports it under the same name. A generic top-level ``transforms`` is never installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import REPO, imported_by_the_product

CHECK = """
import sys
sys.path = [p for p in sys.path if not p.rstrip("/").endswith("/src") and p not in ("", ".")]
sys.path.insert(0, sys.argv[1])
import metric_backfill, metric_backfill.registry as r
assert metric_backfill.__file__.startswith(sys.argv[1]), metric_backfill.__file__
try:
    import transforms  # noqa: F401
    print("top-level transforms importable")
except ImportError:
    pass
print(len(r.all_packages()), len(r.all_metrics()))
"""


def test_the_wheel_holds_only_metric_backfill_with_its_transforms(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"metric_backfill", "metric_backfill_lab"}
    shipped = {Path(n).name for n in names if n.startswith("metric_backfill/transforms/")}
    assert shipped >= {p.name for p in (REPO / "transforms").glob("*.py")}

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    out = subprocess.run([sys.executable, "-c", CHECK, str(target)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20", "73"]


def test_the_editable_install_imports_the_same_modules_under_the_same_name():
    from metric_backfill import registry

    pkg = registry.all_packages()["image_reaction"]
    module = sys.modules["metric_backfill.transforms.image_reaction"]
    assert module.PACKAGE is pkg
    assert Path(module.__file__).resolve() == (REPO / "transforms" / "image_reaction.py").resolve()
    assert "transforms.image_reaction" not in sys.modules


NO_LAB = """
import sys
sys.modules["adbc_driver_postgresql"] = None  # as on a machine without the [lab] extra
from metric_backfill.cli import main
sys.argv = ["metric-backfill", *sys.argv[1:]]
main()
"""


def test_the_product_never_imports_the_lab():
    assert imported_by_the_product(("metric_backfill_lab",)) == []


def test_lab_commands_without_the_lab_name_the_extra_and_exit_2(tmp_path: Path):
    for args in (["db", "up", "--dir", str(tmp_path)], ["db", "down", "--dir", str(tmp_path)],
                 ["demo", "--dir", str(tmp_path)]):
        out = subprocess.run([sys.executable, "-c", NO_LAB, *args], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.strip() == "error: this command needs the lab: pip install 'metric-backfill[lab]'"
    listed = subprocess.run([sys.executable, "-c", NO_LAB, "list", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr


NO_PLOTS = NO_LAB.replace('sys.modules["adbc_driver_postgresql"] = None  # as on a machine without the [lab] extra',
                          'sys.modules["matplotlib"] = None  # as on a machine without the [plots] extra')


def test_a_chart_without_matplotlib_names_the_plots_extra_and_exits_2(tmp_path: Path):
    out = subprocess.run([sys.executable, "-c", NO_PLOTS, "bench", "batch-sizes", "--pg",
                          "postgresql://u@127.0.0.1:1/db", "--png", str(tmp_path / "s.png")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == "error: --png needs matplotlib: pip install 'metric-backfill[plots]'"
    assert not (tmp_path / "s.png").exists()


def test_bench_batch_sizes_needs_one_source(tmp_path: Path):
    for args in ([], ["--pg", "postgresql://u@127.0.0.1:1/db", "--seeded", str(tmp_path)],
                 ["--pg", "postgresql://u@127.0.0.1:1/db", "--scale", "1"]):
        out = subprocess.run([sys.executable, "-m", "metric_backfill.cli", "bench", "batch-sizes", *args],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("error: "), out.stderr
    assert not any(tmp_path.iterdir())
