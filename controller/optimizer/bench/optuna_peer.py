#!/usr/bin/env python3
"""Optuna as an ask/tell optimiser over stdio: the peer that
hilnas-bench-optimizer --benchmark measures mobo against.

It speaks the protocol of `hilnas-bench-optimizer --problem stdio`: for each of
--evals trials it prints the suggested point as one CSV line (--dims values in
[0, 1]) and reads the objective values (--objectives values, all minimised) as
one CSV line from stdin. The black box, and so the problem's definition, stays
in the caller.

Samplers (Optuna 3.1, Debian 12's python3-optuna):
  motpe  TPESampler(n_startup_trials=10, seed=S): what MOTPESampler is in 3.x
         (its defaults: 24 EI candidates, univariate Parzen estimators).
  nsga2  NSGAIISampler(population_size=10, seed=S).

Exit status: 0 after --evals trials; 2 for bad arguments or a bad input line;
3 when Optuna is not importable (one line on stderr says so).
"""

import argparse
import sys
import warnings


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sampler", choices=["motpe", "nsga2"], required=True)
    parser.add_argument("--dims", type=int, required=True)
    parser.add_argument("--objectives", type=int, required=True)
    parser.add_argument("--evals", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population", type=int, default=10, help="NSGA-II population")
    parser.add_argument("--startup", type=int, default=10, help="TPE start-up trials")
    args = parser.parse_args()
    if args.dims < 1 or args.objectives < 1 or args.evals < 1:
        parser.error("--dims, --objectives and --evals must be >= 1")
    return args


def read_values(count):
    line = sys.stdin.readline()
    if not line:
        raise ValueError("end of input before the objective values")
    try:
        values = [float(v) for v in line.strip().split(",")]
    except ValueError:
        raise ValueError(f"not a CSV line of numbers: {line.strip()[:80]!r}") from None
    if len(values) != count:
        raise ValueError(f"expected {count} objective values, got {len(values)}")
    return values


def main():
    args = parse_args()
    try:
        import optuna
    except ImportError as e:
        print(f"optuna_peer: Optuna is not importable ({e})", file=sys.stderr)
        return 3
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")  # ExperimentalWarning for multi-objective TPE
    if args.sampler == "motpe":
        sampler = optuna.samplers.TPESampler(n_startup_trials=args.startup, seed=args.seed)
    else:
        sampler = optuna.samplers.NSGAIISampler(population_size=args.population, seed=args.seed)
    study = optuna.create_study(directions=["minimize"] * args.objectives, sampler=sampler)
    for _ in range(args.evals):
        trial = study.ask()
        x = [trial.suggest_float(f"x{j}", 0.0, 1.0) for j in range(args.dims)]
        print(",".join(repr(v) for v in x), flush=True)
        try:
            values = read_values(args.objectives)
        except ValueError as e:
            print(f"optuna_peer: {e}", file=sys.stderr)
            return 2
        study.tell(trial, values)
    return 0


if __name__ == "__main__":
    sys.exit(main())
