"""Every bad input ends in one clear line on stderr and exit status 2."""

import pytest

from recommender.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def write(tmp_path, text, name="in.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_missing_file(capsys, tmp_path, command):
    extra = ["--out", str(tmp_path / "m")] if command == "train" else []
    code, line = run(capsys, command, "--interactions", str(tmp_path / "nope.csv"), *extra)
    assert code == 2 and line.startswith("error: interactions file not found")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_missing_columns(capsys, tmp_path, command):
    f = write(tmp_path, "user_id,item_id,when\nu,i,2025-01-01\n")
    extra = ["--out", str(tmp_path / "m")] if command == "train" else []
    code, line = run(capsys, command, "--interactions", f, *extra)
    assert code == 2 and "missing column(s) timestamp, event" in line


@pytest.mark.parametrize("text", ["", "user_id,item_id,timestamp,event\n"])
def test_empty_dataset(capsys, tmp_path, text):
    code, line = run(capsys, "train", "--interactions", write(tmp_path, text), "--out", str(tmp_path / "m"))
    assert code == 2 and "empty" in line


def test_unparsable_timestamp_names_the_line(capsys, tmp_path):
    f = write(tmp_path, "user_id,item_id,timestamp,event\nu,i,2025-01-01T00:00:00Z,view\nu,j,yesterday,view\n")
    code, line = run(capsys, "evaluate", "--interactions", f)
    assert code == 2 and "line 3" in line and "yesterday" in line


def test_short_row_names_the_line(capsys, tmp_path):
    f = write(tmp_path, "user_id,item_id,timestamp,event\nu,i\n")
    code, line = run(capsys, "train", "--interactions", f, "--out", str(tmp_path / "m"))
    assert code == 2 and "line 2" in line


def test_evaluate_without_repeat_customers(capsys, tmp_path):
    f = write(tmp_path, "user_id,item_id,timestamp,event\nu,i,2025-01-01T00:00:00Z,purchase\n")
    code, line = run(capsys, "evaluate", "--interactions", f)
    assert code == 2 and "nothing to evaluate" in line


def test_bad_config(capsys, tmp_path, tiny_csv):
    cfg = write(tmp_path, '{"no_such_key": 1}', "cfg.json")
    code, line = run(capsys, "train", "--interactions", str(tiny_csv), "--out", str(tmp_path / "m"), "--config", cfg)
    assert code == 2 and "unknown config key" in line
    code, line = run(capsys, "train", "--interactions", str(tiny_csv), "--out", str(tmp_path / "m"),
                     "--config", str(tmp_path / "missing.json"))
    assert code == 2 and "config file not found" in line


def test_recommend_bad_inputs(capsys, tmp_path, tiny_csv):
    model = tmp_path / "m"
    assert main(["train", "--interactions", str(tiny_csv), "--out", str(model)]) == 0
    capsys.readouterr()
    out = str(tmp_path / "r.csv")
    code, line = run(capsys, "recommend", "--model", str(tmp_path / "nomodel"), "--users", str(tiny_csv), "--out", out)
    assert code == 2 and "model directory not found" in line
    code, line = run(capsys, "recommend", "--model", str(model), "--users", str(tmp_path / "nousers.csv"), "--out", out)
    assert code == 2 and "users file not found" in line
    code, line = run(capsys, "recommend", "--model", str(model), "--users", write(tmp_path, "customer\nx\n", "u.csv"), "--out", out)
    assert code == 2 and "missing column user_id" in line
    code, line = run(capsys, "recommend", "--model", str(model), "--users", write(tmp_path, "user_id\n", "u2.csv"), "--out", out)
    assert code == 2 and "no users" in line


def test_tiny_dataset_trains_and_serves_everyone(capsys, tmp_path, tiny_csv):
    model = tmp_path / "m"
    assert main(["train", "--interactions", str(tiny_csv), "--out", str(model)]) == 0
    users = write(tmp_path, "user_id\nalice\nerin\nzed\n", "u.csv")
    out = tmp_path / "r.csv"
    assert main(["recommend", "--model", str(model), "--users", users, "--k", "3", "--out", str(out)]) == 0
    lines = out.read_text().strip().splitlines()
    assert lines[0] == "user_id,item_id,rank,score" and len(lines) == 1 + 3 * 3
