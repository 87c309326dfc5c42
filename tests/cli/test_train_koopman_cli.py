"""``nncrn train --koopman``: the report counts the jumps; the options are checked."""

from __future__ import annotations

import pytest

from nncrn.cli import main


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    from sklearn.datasets import load_iris

    d = tmp_path_factory.mktemp("iris")
    X, y = load_iris(return_X_y=True)
    rows = "\n".join(",".join([*(f"{v:g}" for v in x), f"c{c}"]) for x, c in zip(X, y, strict=True))
    (d / "iris.csv").write_text("a,b,c,d,species\n" + rows + "\n")
    return d / "iris.csv"


def test_train_koopman_reports_the_jumps(iris_csv, tmp_path, capsys):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--hidden", "4",
                 "--epochs", "5", "--koopman", "--koopman-window", "5", "--koopman-horizon", "10",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    # 112 training rows in batches of 32: 4 steps per epoch, 20 steps, a jump every 5
    row = next(line for line in out.splitlines() if "Koopman jumps kept" in line)
    assert "(of 4, 10 steps each)" in row
    assert 0 <= int(row.split("│")[-2]) <= 4


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--koopman-window", "5"], "--koopman-window 5 needs --koopman"),
        (["--koopman", "--koopman-horizon", "0"], "--koopman-horizon must be >= 1"),
    ],
)
def test_train_koopman_bad_options(iris_csv, tmp_path, capsys, extra, match):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--out", str(tmp_path),
                 *extra])  # fmt: skip
    assert code == 2
    assert match in capsys.readouterr().err
