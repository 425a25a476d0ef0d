"""Command line: `superjax list | run | plot | report | scorecard | ship | bench |
convert-resnet18 | export-saes`.

Parses, dispatches, reports errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from superjax.core import host, precision, preemption
from superjax.core.errors import SuperjaxError

# Where `superjax scorecard --markdown` writes when it is given no path.
_REPRODUCTION = Path("docs/REPRODUCTION.md")


class _Parser(argparse.ArgumentParser):
  def error(self, message):  # one line, exit 2, as for every other bad input
    self.exit(2, f"superjax: error: {message} (see `superjax --help`)\n")


def _parser() -> argparse.ArgumentParser:
  parser = _Parser(prog="superjax", description="Toy models of superposition, whole grids at a time.")
  sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
  sub.add_parser("list", help="list the sweeps with one-line descriptions")
  run = sub.add_parser("run", help="train a sweep (resumes if its directory holds a checkpoint)")
  run.add_argument("sweep", help="sweep name (see `superjax list`) or path to a sweep file")
  run.add_argument("--out", type=Path, help="run directory (default: checkpoints/<sweep>)")
  run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set steps=2000 --set density=1,0.1")
  run.add_argument("--fresh", action="store_true",
                   help="start anew even if the directory holds a run (the old one is moved aside)")
  run.add_argument("--no-progress", action="store_true", help="no progress bar")
  run.add_argument("--no-figures", action="store_true", help="skip drawing figures")
  run.add_argument("--precision", choices=precision.PRECISIONS,
                   help="float32 matmul precision on GPUs and TPUs (default: the experiment's "
                   f"own, or ${precision.VARIABLE})")
  hosts = run.add_argument_group("many hosts (every process runs the same command)")
  hosts.add_argument("--distributed", action="store_true",
                     help="join JAX's distributed runtime as the cluster (SLURM, TPU pod) says")
  hosts.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
  hosts.add_argument("--num-processes", type=int)
  hosts.add_argument("--process-id", type=int)
  bench = sub.add_parser("bench", help="measure training throughput on this machine "
                         "(benchmarks/throughput.py adds the PyTorch comparison)")
  bench.add_argument("--configs", default="abc", help="any of a, b, c (default: abc)")
  for name, text in (("plot", "redraw every figure of a finished run from its results"),
                     ("report", "print the summary numbers of a finished run")):
    cmd = sub.add_parser(name, help=text)
    cmd.add_argument("run_dir", type=Path)
  card = sub.add_parser("scorecard", help="check the papers' claims against finished run "
                        "directories (default: checkpoints/<sweep> for every claim)")
  card.add_argument("run_dirs", nargs="*", type=Path, metavar="RUN_DIR",
                    help="finished run directories to read (default: ROOT/<sweep> of every "
                    "claim)")
  card.add_argument("--root", type=Path, metavar="DIR",
                    help="where each claim's run directory is looked for (default: checkpoints)")
  card.add_argument("--markdown", nargs="?", type=Path, const=_REPRODUCTION, metavar="PATH",
                    help=f"also write the scorecard as Markdown to PATH (default "
                    f"{_REPRODUCTION}); name RUN_DIRs before this option")
  card.add_argument("--html", type=Path, metavar="PATH",
                    help="also write the scorecard as one static HTML page (a forest plot per "
                    "claim) to PATH")
  card.add_argument("--criteria", action="store_true",
                    help="print every claim's rule and the paper's protocol as Markdown "
                    "(docs/CRITERIA.md) instead of reading runs")
  ship = sub.add_parser("ship", help="copy the results the scorecard judges from finished run "
                        "directories (no trained state) to ROOT/<sweep>, for "
                        "`superjax scorecard --root ROOT`")
  ship.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
  ship.add_argument("--root", type=Path, default=Path("results"), metavar="ROOT",
                    help="where the copies go (default: results)")
  ship.add_argument("--variant", default="", metavar="NAME",
                    help="file the copy as ROOT/<sweep>.NAME; the scorecard reads "
                    "<sweep>.doubled (the same sweep at twice the steps) as its convergence "
                    "check")
  convert = sub.add_parser("convert-resnet18", help="convert a madrylab or torchvision "
                           "ResNet18 checkpoint into a converted-model directory (needs torch)")
  convert.add_argument("checkpoint", type=Path, metavar="CKPT", help="the PyTorch .pt/.pth file")
  convert.add_argument("--out", type=Path, required=True, metavar="MODEL_DIR",
                       help="the converted-model directory to write")
  export = sub.add_parser("export-saes", help="write the SAEs of a finished run as SAELens "
                          "folders (cfg.json + sae_weights.safetensors), one per SAE")
  export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
  export.add_argument("out", type=Path, metavar="OUT", help="folder to write them in")
  export.add_argument("--where", action="append", default=[], metavar="NAME=VALUE[,VALUE]",
                      help="only SAEs with these coordinates, e.g. --where sae_kind=topk "
                      "--where density=0.1,0.3 (names as in the run's results)")
  return parser


def _list() -> None:
  from superjax.core import sweeps
  found = sorted(sweeps.available().items(), key=lambda item: (sweeps.family(item[1]), item[0]))
  width = max((len(name) for name, _ in found), default=0)
  family = None
  for name, path in found:
    if sweeps.family(path) != family:
      family = sweeps.family(path)
      print(f"{family or 'sweeps'}:")
    print(f"  {name:<{width}}  {sweeps.summary(path)}")


def _figures(dataset, run_dir: Path) -> None:
  from superjax.core import experiment, figures, rundir
  drawn = experiment.of_dataset(dataset).figures(dataset)
  for path in figures.save_all(drawn, run_dir / rundir.FIGURES_DIR):
    print(f"wrote {path} (+ .pdf)")


def _bench(configs: str) -> None:
  from superjax.toy import bench
  unknown = sorted(set(configs) - set(bench.CONFIGS))
  if unknown:
    raise SuperjaxError(f"--configs: {unknown[0]!r} is not one of {', '.join(bench.CONFIGS)}")
  peak = bench.matmul_peak_gflops()
  print(bench.table([bench.measure(name) for name in configs], peak))


def _run(args) -> None:
  from superjax.core import distributed, experiment, rundir, sweeps
  if args.distributed or args.coordinator:
    distributed.initialize(args.coordinator, args.num_processes, args.process_id)
  elif args.num_processes is not None or args.process_id is not None:
    raise SuperjaxError("--num-processes and --process-id need --coordinator HOST:PORT "
                        "(or --distributed on a cluster that names it)")
  cfg = sweeps.load(args.sweep).with_overrides(args.overrides)
  run_dir = args.out or rundir.DEFAULT_ROOT / cfg.name
  dataset = experiment.run(cfg, run_dir, fresh=args.fresh, show_progress=not args.no_progress,
                           precision=args.precision)
  if not distributed.is_primary():
    return
  text = experiment.of_config(cfg).report(dataset)
  rundir.write_atomic(run_dir / rundir.REPORT_FILE, text + "\n")
  print(text)
  print(f"results: {run_dir / 'results.nc'}  (superjax.load({str(run_dir)!r}))")
  timing = rundir.time_summary(run_dir)
  if timing:
    print(timing)
  if not args.no_figures:
    _figures(dataset, run_dir)


def _write(path: Path, option: str, text: str) -> None:
  from superjax.core import rundir
  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    rundir.write_atomic(path, text)
  except OSError as e:
    raise SuperjaxError(f"{option} {path}: cannot write there "
                        f"({e.strerror or type(e).__name__})") from None
  print(f"wrote {path}")


def _scorecard(run_dirs: list[Path], root: Path | None, markdown: Path | None,
               criteria: bool = False, html_page: Path | None = None) -> None:
  from superjax.claims import scorecard
  if criteria:
    print(scorecard.render_criteria(scorecard.all_claims()), end="")
    return
  if run_dirs and root is not None:
    raise SuperjaxError("give run directories or --root, not both")
  for path, option in ((markdown, "--markdown"), (html_page, "--html")):
    if path is not None and path.is_dir():
      raise SuperjaxError(f"{option} {path}: is a directory; name a file")
  rows, notes = scorecard.evaluate(scorecard.all_claims(), run_dirs, root)
  print(scorecard.render_text(rows, notes))
  if markdown is not None:
    _write(markdown, "--markdown", scorecard.render_markdown(rows, notes))
  if html_page is not None:
    from superjax.claims import page
    _write(html_page, "--html", page.render_html(rows, notes))


def _ship(run_dirs: list[Path], root: Path, variant: str) -> None:
  from superjax.claims import evidence
  for run_dir in run_dirs:
    out = evidence.ship(run_dir, root, variant)
    size = (out / "results.nc").stat().st_size
    print(f"wrote {out} (results {size / 1e6:.2f} MB)")


def _convert_resnet18(checkpoint: Path, out: Path) -> None:
  from superjax.vision import convert
  done = convert.convert_resnet18(checkpoint, out)
  arch = done["architecture"]
  print(f"wrote {done['out']}: ResNet18, {arch['stem']} stem, {arch['channels']} channels, "
        f"{arch['num_classes']} classes, mean {arch['mean']}, std {arch['std']}")
  print("source: " + ", ".join(f"{key}={value}" for key, value in done["source"].items()))
  print(f"load it with superjax.vision.resnet.load({str(out)!r})")


def _export_saes(run_dir: Path, out: Path, where: list[str]) -> None:
  from superjax.sae import saelens
  pairs = [item.partition("=") for item in where]
  bad = [item for item, (_, eq, _) in zip(where, pairs) if not eq]
  if bad:
    raise SuperjaxError(f"--where {bad[0]}: give NAME=VALUE")
  written = saelens.export_run(run_dir, out, {name: value for name, _, value in pairs})
  print(f"wrote {len(written)} SAELens folders under {out} (index: {out / saelens.INDEX_FILE}); "
        f"load one with sae_lens.SAE.load_from_disk({str(written[0])!r})")


def main(argv: list[str] | None = None) -> int:
  host.setup()
  args = _parser().parse_args(argv)
  try:
    if args.command == "list":
      _list()
    elif args.command == "run":
      _run(args)
    elif args.command == "scorecard":
      _scorecard(args.run_dirs, args.root, args.markdown, args.criteria, args.html)
    elif args.command == "ship":
      _ship(args.run_dirs, args.root, args.variant)
    elif args.command == "bench":
      _bench(args.configs)
    elif args.command == "convert-resnet18":
      _convert_resnet18(args.checkpoint, args.out)
    elif args.command == "export-saes":
      _export_saes(args.run_dir, args.out, args.where)
    else:
      from superjax.core import experiment, rundir
      dataset = rundir.load(args.run_dir)
      if args.command == "plot":
        _figures(dataset, args.run_dir)
      else:
        print(experiment.of_dataset(dataset).report(dataset))
  except preemption.Stopped as e:
    print(f"superjax: {e}", file=sys.stderr)
    return 128 + e.signum  # as a shell reports a process ended by that signal
  except SuperjaxError as e:
    print(f"superjax: error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print("superjax: interrupted; rerun the same command to resume from the last checkpoint",
          file=sys.stderr)
    return 130
  except BrokenPipeError:  # output piped into `head` and friends, which closed early
    sys.stderr.close()
    return 0
  except (MemoryError, RuntimeError) as e:
    # XLA reports exhausted memory as a RuntimeError subclass (JaxRuntimeError).
    if not isinstance(e, MemoryError) and "RESOURCE_EXHAUSTED" not in str(e):
      raise
    print("superjax: error: out of memory; lower chunk_size (or eval_batch) with --set; "
          "finished checkpoints are kept and the same command resumes from them",
          file=sys.stderr)
    return 3
  return 0


if __name__ == "__main__":
  sys.exit(main())
