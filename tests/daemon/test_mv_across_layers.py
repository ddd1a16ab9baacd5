"""busybox `mv` of a directory from an image layer: overlayfs refuses the rename (EXDEV),
so mv copies and deletes; `docker diff` shows it as on a 20.10.24 engine
(`A /var2`, `A /var2/log`, `D /var`, exit 0)."""

from __future__ import annotations


def test_mv_of_a_lower_directory_falls_back_to_copy_and_delete(client, base):
    c = client.containers.run(base, ["sh", "-c", "mv /var /var2; echo rc=$?"], detach=True)
    client.clock.advance(1)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 0 and c.logs() == b"rc=0\n"
    kinds = {d["Path"]: d["Kind"] for d in c.diff()}
    assert kinds["/var"] == 2 and kinds["/var2"] == 1 and kinds["/var2/log"] == 1
