"""Layer tars the way moby's pkg/archive makes and applies them.

Deterministic tar writing (`tar_directory`, `export_changes`, `TarWriter`), safe
application (`unpack_layer`), Docker's A/C/D change detection (`changes_dirs`,
`changes_aufs`, `changes_size`, `directory_size`), whiteouts in both on-disk forms,
and tar-split for byte-identical reassembly of registered layers.

moby: pkg/archive (28.1+: github.com/moby/go-archive), vbatts/tar-split
"""

from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports

if TYPE_CHECKING:
    from dockerlayers.archive.apply import WHITEOUT_FORMATS, unpack_layer
    from dockerlayers.archive.changes import (
        Change,
        ChangeKind,
        changes_aufs,
        changes_dirs,
        changes_size,
        directory_size,
    )
    from dockerlayers.archive.errors import (
        BreakoutError,
        DuplicatePathError,
        LayerTarError,
        TarFormatError,
        TarSplitError,
    )
    from dockerlayers.archive.tar import (
        TarWriter,
        copy_with_hash,
        export_changes,
        file_info_header,
        tar_directory,
    )
    from dockerlayers.archive.tarheader import TarHeader, encode_header
    from dockerlayers.archive.tarreader import TarEntry, iter_tar
    from dockerlayers.archive.tarsplit import (
        make_tar_split,
        read_tar_split,
        reassemble,
        write_tar_split,
    )
    from dockerlayers.archive.whiteouts import (
        OPAQUE_XATTR,
        WHITEOUT_LINK_DIR,
        WHITEOUT_META_PREFIX,
        WHITEOUT_OPAQUE_DIR,
        WHITEOUT_PREFIX,
        is_char_whiteout,
        is_opaque_dir,
        native_whiteouts_supported,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "WHITEOUT_FORMATS": "dockerlayers.archive.apply",
        "unpack_layer": "dockerlayers.archive.apply",
        "Change": "dockerlayers.archive.changes",
        "ChangeKind": "dockerlayers.archive.changes",
        "changes_aufs": "dockerlayers.archive.changes",
        "changes_dirs": "dockerlayers.archive.changes",
        "changes_size": "dockerlayers.archive.changes",
        "directory_size": "dockerlayers.archive.changes",
        "BreakoutError": "dockerlayers.archive.errors",
        "DuplicatePathError": "dockerlayers.archive.errors",
        "LayerTarError": "dockerlayers.archive.errors",
        "TarFormatError": "dockerlayers.archive.errors",
        "TarSplitError": "dockerlayers.archive.errors",
        "TarEntry": "dockerlayers.archive.tarreader",
        "TarHeader": "dockerlayers.archive.tarheader",
        "TarWriter": "dockerlayers.archive.tar",
        "copy_with_hash": "dockerlayers.archive.tar",
        "encode_header": "dockerlayers.archive.tarheader",
        "export_changes": "dockerlayers.archive.tar",
        "file_info_header": "dockerlayers.archive.tar",
        "iter_tar": "dockerlayers.archive.tarreader",
        "tar_directory": "dockerlayers.archive.tar",
        "make_tar_split": "dockerlayers.archive.tarsplit",
        "read_tar_split": "dockerlayers.archive.tarsplit",
        "reassemble": "dockerlayers.archive.tarsplit",
        "write_tar_split": "dockerlayers.archive.tarsplit",
        "OPAQUE_XATTR": "dockerlayers.archive.whiteouts",
        "WHITEOUT_LINK_DIR": "dockerlayers.archive.whiteouts",
        "WHITEOUT_META_PREFIX": "dockerlayers.archive.whiteouts",
        "WHITEOUT_OPAQUE_DIR": "dockerlayers.archive.whiteouts",
        "WHITEOUT_PREFIX": "dockerlayers.archive.whiteouts",
        "is_char_whiteout": "dockerlayers.archive.whiteouts",
        "is_opaque_dir": "dockerlayers.archive.whiteouts",
        "native_whiteouts_supported": "dockerlayers.archive.whiteouts",
    },
)

__all__ = [
    "OPAQUE_XATTR",
    "WHITEOUT_FORMATS",
    "WHITEOUT_LINK_DIR",
    "WHITEOUT_META_PREFIX",
    "WHITEOUT_OPAQUE_DIR",
    "WHITEOUT_PREFIX",
    "BreakoutError",
    "Change",
    "ChangeKind",
    "DuplicatePathError",
    "LayerTarError",
    "TarEntry",
    "TarFormatError",
    "TarHeader",
    "TarSplitError",
    "TarWriter",
    "changes_aufs",
    "changes_dirs",
    "changes_size",
    "copy_with_hash",
    "directory_size",
    "encode_header",
    "export_changes",
    "file_info_header",
    "is_char_whiteout",
    "is_opaque_dir",
    "iter_tar",
    "make_tar_split",
    "native_whiteouts_supported",
    "read_tar_split",
    "reassemble",
    "tar_directory",
    "unpack_layer",
    "write_tar_split",
]
