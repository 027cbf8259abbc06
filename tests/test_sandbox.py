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


def test_a_reply_that_lands_before_an_output_widget_echo_is_not_missed():
    """The shell reply a cell's wait awaits must wake it at once, even when nbclient's stand-in
    for an ipywidgets Output widget sends on the shell socket just after the reply landed
    (``sandbox.ShellChannel``). Without it, the wait saw the reply only at its timeout: in 02's
    ``explorer()`` cell, the whole ``Execute.timeout`` (120 s) in about one autograde in four."""
    import asyncio
    import time
    from types import SimpleNamespace

    import zmq
    from jupyter_client.session import Session
    from nbclient.output_widget import OutputWidget

    context = zmq.Context()
    kernel = context.socket(zmq.ROUTER)  # the kernel's end of the shell channel
    port = kernel.bind_to_random_port("tcp://127.0.0.1")
    km = sandbox.UnconfinedKernelManager(confinement=SimpleNamespace(limits=sandbox.Limits()))
    km.transport, km.ip, km.shell_port = "tcp", "127.0.0.1", port
    km.session = Session(key=b"k")
    kc = km.client()
    kernel_session = Session(key=b"k")
    msg_id = kc.execute("explorer()")
    ident, *_ = kernel.recv_multipart()
    widget = OutputWidget("c0", {"outputs": []}, kc, SimpleNamespace())
    display = kernel_session.msg("display_data", {"data": {"text/plain": "<Figure>"}, "metadata": {}},
                                 parent={"msg_id": msg_id})

    async def wait_for_the_reply():
        reply = asyncio.ensure_future(kc.shell_channel.get_msg(timeout=5))  # nbclient's wait
        await asyncio.sleep(0.05)
        # One IOPub message handled while the reply lands: the widget echoes its outputs.
        kernel_session.send(kernel, "execute_reply", {"status": "ok"}, parent={"msg_id": msg_id}, ident=ident)
        time.sleep(0.05)
        widget.output([], display, None, 0)
        began = time.monotonic()
        message = await reply
        return message, time.monotonic() - began

    try:
        message, waited = asyncio.run(wait_for_the_reply())
        assert message["msg_type"] == "execute_reply" and message["parent_header"]["msg_id"] == msg_id
        assert waited < 1.0, f"the reply was seen only after {waited:.1f} s (the wait's timeout)"
        echo = kernel.recv_multipart()  # the echo itself still reached the kernel
        assert kernel_session.deserialize(kernel_session.feed_identities(echo)[1])["msg_type"] == "comm_msg"
    finally:
        kc.stop_channels()
        kernel.close(0)
        context.term()
