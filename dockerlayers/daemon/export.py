"""`docker export`: the container's merged filesystem (volumes excluded) as a tar.

moby: daemon/export.go containerExport
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers.archive.tar import TarAppender, TarWriter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def export(daemon: Daemon, ref: str, out: BinaryIO | None = None) -> bytes | None:
    """A new handle on the RW layer, mounted, walked into a tar (written to `out`, or
    returned as bytes without one), released.

    moby: daemon/export.go containerExport
    """
    with daemon.lock:
        c = daemon.get_container(ref)
        rw = daemon.layer_store.get_rw_layer(c.id)
        fs = rw.mount()
        try:
            buf = io.BytesIO() if out is None else out
            tw = TarWriter(buf)
            app = TarAppender(tw, convert_whiteouts=False)
            for top, dirs, files in fs.walk("/"):
                for name in sorted(dirs + files):
                    path = top.rstrip("/") + "/" + name
                    host = fs.host_path(path)
                    if host is not None:
                        app.add(host, path.lstrip("/"))
            tw.close()
            return buf.getvalue() if out is None else None
        finally:
            rw.unmount()
            daemon.layer_store.release_rw_layer(rw)
