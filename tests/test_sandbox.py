"""The confinement's pieces that need no kernel (initgrader.sandbox): staging, the bubblewrap
command line, the guarded reference functions. tests/test_integrity.py runs the real thing."""

import os
from pathlib import Path

import pytest

from initgrader import sandbox


def test_staging_copies_regular_files_and_refuses_links_and_special_files(tmp_path):
    source, dest = tmp_path / "submitted", tmp_path / "staged"
    (source / "data").mkdir(parents=True)
    (source / "nb.ipynb").write_text("{}")
    (source / "data" / "x.csv").write_text("1,2")
    (source / "link.ipynb").symlink_to("/etc/passwd")
    (source / "linked-dir").symlink_to(tmp_path)
    os.link(source / "nb.ipynb", source / "hard.ipynb")
    os.mkfifo(source / "pipe")
    report = sandbox.stage_submission(source, dest, sandbox.Limits())
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == ["data/x.csv"]
    refused = "\n".join(report.refused)
    for name, why in (("link.ipynb", "symbolic link"), ("linked-dir", "link"), ("hard.ipynb", "hard link"),
                      ("nb.ipynb", "hard link"), ("pipe", "not a regular file")):
        assert f"{name}: a {why}" in refused or f"{name}: {why}" in refused, (name, refused)


def test_staging_caps_the_number_and_size_of_files(tmp_path):
    source = tmp_path / "submitted"
    source.mkdir()
    for i in range(5):
        (source / f"f{i}.txt").write_bytes(b"x" * 1000)
    report = sandbox.stage_submission(source, tmp_path / "staged", sandbox.Limits(submission_files=3))
    assert len(list((tmp_path / "staged").iterdir())) == 3 and len(report.refused) == 2
    report = sandbox.stage_submission(source, tmp_path / "small", sandbox.Limits(submission_bytes=2500))
    assert len(list((tmp_path / "small").iterdir())) == 2 and all("MiB" in r for r in report.refused)


def test_the_private_tmp_is_mounted_before_anything_is_bound_on_top_of_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: "bwrap")
    confinement = sandbox.Confinement(tmp_path / "w", tmp_path / "s", tmp_path / "lib", sandbox.Limits())
    args = confinement.command(["python", "-m", "ipykernel_launcher"], {"SECRET_DB_URL": "postgresql://x:pw@h/db"})
    tmpfs = args.index("--tmpfs")
    binds = [i for i, a in enumerate(args) if a in ("--bind", "--ro-bind")]
    assert args[tmpfs + 1] == "/tmp" and all(i > tmpfs for i in binds)
    assert "--clearenv" in args and "SECRET_DB_URL" not in " ".join(args)
    assert args[-3:] == ["python", "-m", "ipykernel_launcher"]


def test_a_guarded_reference_refuses_a_student_caller_and_serves_initkit(tmp_path):
    source = "def var_of_product(a, b, c, d):\n    return b * d + b * c**2 + d * a**2\n"
    guarded = sandbox.guard_definitions(source, frozenset({"var_of_product"}))
    module = {"__name__": "__main__"}
    exec(compile(guarded, "<answer cell>", "exec"), module)
    with pytest.raises(RuntimeError, match="not available while your work is graded"):
        module["var_of_product"](0.0, 1.0, 0.0, 1.0)
    caller = {"__name__": "initkit.checks._deterministic", "f": module["var_of_product"]}
    exec("result = f(0.0, 1.0, 0.0, 1.0)", caller)
    assert caller["result"] == 1.0
    student_path = {"__name__": "initkit.checks._engine", "f": module["var_of_product"]}
    with pytest.raises(RuntimeError):
        exec("f(0.0, 1.0, 0.0, 1.0)", student_path)
    assert sandbox.guard_definitions(source, frozenset({"other"})) == source
