"""Documents live outside the database, in a content-addressed folder (``<sha256>``)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from nameko.extensions import DependencyProvider

from motcua.config import section


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, content: bytes) -> str:
        """Store bytes once; returns their sha256. Written atomically (temp file + rename)."""
        digest = hashlib.sha256(content).hexdigest()
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        return digest

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest


class Files(DependencyProvider):
    """The service's ``FileStore`` at ``<service>.FILES_DIR`` (default ``var/files/<service>``)."""

    def setup(self) -> None:
        name = self.container.service_name
        self.store = FileStore(Path(section(name).get("FILES_DIR", f"var/files/{name}")))

    def get_dependency(self, worker_ctx) -> FileStore:
        return self.store
