"""Downloads of the data sets that are not bundled: the cache directory (``$JAXGAN_CACHE`` or
``~/.cache/jaxgan``) and :func:`download`, which tries each mirror in turn, writes through a
temporary file and keeps the file only when its MD5 sum is the published one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Sequence

from jaxgan.data.image_dataset import DatasetError

__all__ = ["OFFLINE_HINT", "default_cache_dir", "fetch_checked", "offline_hint"]

OFFLINE_HINT = "pass --data-dir with the {files}, or use --dataset digits (bundled, no download)"


def offline_hint(dataset: str) -> str:
    """What to do without network access, for ``dataset``'s error messages."""
    files = {"mnist": "IDX files", "fashion_mnist": "IDX files", "cifar10": "CIFAR-10 python batches"}
    return OFFLINE_HINT.format(files=files.get(dataset, "files"))


def default_cache_dir() -> Path:
    """``$JAXGAN_CACHE`` if set, else ``~/.cache/jaxgan``."""
    return Path(os.environ.get("JAXGAN_CACHE", Path.home() / ".cache" / "jaxgan"))


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_checked(urls: Sequence[str], dest: Path, md5: str, dataset: str, timeout: float = 30.0) -> Path:
    """Fetches the first URL that works into ``dest`` (via a temporary file) and checks its MD5."""
    if dest.exists() and _md5(dest) == md5:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
            got = _md5(Path(tmp))
            if got != md5:
                errors.append(f"{url}: checksum {got} != {md5}")
                continue
            os.replace(tmp, dest)
            return dest
        except Exception as e:  # network errors of every kind: try the next mirror
            errors.append(f"{url}: {type(e).__name__}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DatasetError(f"could not download {dataset} ({errors[-1]}); {offline_hint(dataset)}")
