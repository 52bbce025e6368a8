"""What the store's files take on disk (the database, its WAL and shared-memory index)."""
import os

from hostlink.metrics import Sample

SUFFIXES = ("", "-wal", "-shm")


def store_file_samples(path):
    """``gridedge_store_file_bytes``: the bytes of the store's files now (none for ``:memory:``)."""
    if path == ":memory:" or path.startswith("file::memory:"):
        return []
    total = 0
    for suffix in SUFFIXES:
        try:
            total += os.path.getsize(path + suffix)
        except OSError:
            pass                              # no WAL between checkpoints, or not yet created
    return [Sample("gridedge_store_file_bytes", "gauge",
                   "Bytes of the store's files on disk: the database, its -wal and -shm.", {},
                   total)]
