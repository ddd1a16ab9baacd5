"""`docker export`: the container's merged filesystem (volumes excluded) as a tar.

moby: daemon/export.go containerExport
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dockerlayers.archive.tar import TarAppender, TarWriter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def export(daemon: Daemon, ref: str) -> bytes:
    """A new handle on the RW layer, mounted, walked into a tar, released.

    moby: daemon/export.go containerExport
    """
    with daemon.lock:
        c = daemon.get_container(ref)
        rw = daemon.layer_store.get_rw_layer(c.id)
        fs = rw.mount()
        try:
            out = io.BytesIO()
            tw = TarWriter(out)
            app = TarAppender(tw, convert_whiteouts=False)
            for top, dirs, files in fs.walk("/"):
                for name in sorted(dirs + files):
                    path = top.rstrip("/") + "/" + name
                    host = fs.host_path(path)
                    if host is not None:
                        app.add(host, path.lstrip("/"))
            tw.close()
            return out.getvalue()
        finally:
            rw.unmount()
            daemon.layer_store.release_rw_layer(rw)
