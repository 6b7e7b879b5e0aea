"""Retrains the demo's churn model on the restored feature store: logistic
regression fitted by plain batch gradient descent (standard library only),
on every row but a fixed holdout (rows whose id is a multiple of 5).

usage: train.py fit STORE MODEL [--epochs N] [--rate R]
       train.py evaluate STORE MODEL --min-accuracy A

fit writes MODEL (JSON: weights, bias, feature scaling, training facts) and
MODEL.sha256; evaluate scores the holdout and fails below A."""

import argparse
import json
import math
import os
import time

import common

HOLDOUT = 5


def load(store, holdout):
    db = common.connect(store)
    cols = ", ".join(common.FEATURES)
    op = "=" if holdout else "<>"
    rows = db.execute("select %s, churned from features where id %% %d %s 0" % (cols, HOLDOUT, op)
                      ).fetchall()
    db.close()
    return [r[:-1] for r in rows], [r[-1] for r in rows]


def predict(model, x):
    z = model["bias"]
    for w, v, m, s in zip(model["weights"], x, model["mean"], model["std"]):
        z += w * (v - m) / s
    return common.sigmoid(z)


def fit(args):
    t0 = time.monotonic()
    xs, ys = load(args.store, holdout=False)
    if len(xs) < 100:
        common.die("only %d training rows in %s: too few to train on", len(xs), args.store)
    n, k = len(xs), len(common.FEATURES)
    mean = [sum(x[j] for x in xs) / n for j in range(k)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in xs) / n) or 1.0 for j in range(k)]
    zs = [[(x[j] - mean[j]) / std[j] for j in range(k)] for x in xs]
    w, b = [0.0] * k, 0.0
    loss = 0.0
    for _ in range(args.epochs):
        gw, gb, loss = [0.0] * k, 0.0, 0.0
        for z, y in zip(zs, ys):
            p = common.sigmoid(b + sum(wj * zj for wj, zj in zip(w, z)))
            d = p - y
            gb += d
            for j in range(k):
                gw[j] += d * z[j]
            loss -= math.log(p if y else 1 - p) if 0 < p < 1 else 0
        b -= args.rate * gb / n
        w = [wj - args.rate * g / n for wj, g in zip(w, gw)]
    model = {"kind": "logistic-regression", "features": list(common.FEATURES),
             "weights": w, "bias": b, "mean": mean, "std": std,
             "trained_at": common.iso(), "train_rows": n, "epochs": args.epochs,
             "log_loss": loss / n}
    correct = sum((predict(model, x) >= 0.5) == (y == 1) for x, y in zip(xs, ys))
    model["train_accuracy"] = correct / n
    tmp = args.model + ".tmp"
    with open(tmp, "w") as f:
        json.dump(model, f, indent=1)
    os.replace(tmp, args.model)
    digest = common.write_manifest(args.model)
    common.say("trained on %d rows in %.1fs: log loss %.3f, training accuracy %.1f%%",
               n, time.monotonic() - t0, loss / n, 100 * model["train_accuracy"])
    common.say("weights: %s",
               ", ".join("%s %+.2f" % (f, wj) for f, wj in zip(common.FEATURES, w)))
    common.say("wrote %s (sha256 %s…)", args.model, digest[:12])


def evaluate(args):
    with open(args.model) as f:
        model = json.load(f)
    xs, ys = load(args.store, holdout=True)
    if not xs:
        common.die("no holdout rows in %s", args.store)
    correct = sum((predict(model, x) >= 0.5) == (y == 1) for x, y in zip(xs, ys))
    acc = correct / len(xs)
    base = max(sum(ys), len(ys) - sum(ys)) / len(ys)
    verdict = "ok" if acc >= args.min_accuracy else "TOO LOW"
    common.say("holdout accuracy %.1f%% on %d rows (always guessing the majority: %.1f%%; "
               "required: %.0f%%): %s", 100 * acc, len(xs), 100 * base, 100 * args.min_accuracy,
               verdict)
    if acc < args.min_accuracy:
        common.die("the retrained model is not good enough to deploy")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("store")
    f.add_argument("model")
    f.add_argument("--epochs", type=int, default=100)
    f.add_argument("--rate", type=float, default=1.0)
    e = sub.add_parser("evaluate")
    e.add_argument("store")
    e.add_argument("model")
    e.add_argument("--min-accuracy", type=float, required=True)
    args = p.parse_args()
    fit(args) if args.cmd == "fit" else evaluate(args)


if __name__ == "__main__":
    main()
