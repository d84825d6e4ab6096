"""Upload handler for scans: streams the body to a file on disk in chunks, stops past MAX_UPLOAD_BYTES.

The file is staged inside MEDIA_ROOT (see `ingest.incoming_dir`) so that accepting it is a
rename on the same filesystem, not a second copy of a multi-gigabyte scan.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class StagedUploadedFile(TemporaryUploadedFile):
    """A TemporaryUploadedFile created in the ingest staging folder instead of FILE_UPLOAD_TEMP_DIR."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        from webapp.catalogue.ingest import incoming_dir

        # The file outlives this constructor: the upload owns it and closes (deletes) it.
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="upload-", suffix=".part", dir=incoming_dir())
        # Skip TemporaryUploadedFile.__init__ (it would open a second file in the default temp dir).
        super(TemporaryUploadedFile, self).__init__(file, name, content_type, size, charset, content_type_extra)


class LimitedScanUploadHandler(FileUploadHandler):
    """Writes each uploaded file to disk chunk by chunk; past the limit, deletes it and stops the upload.

    The view reads ``request.upload_too_large`` afterwards to answer 413.
    """

    def __init__(self, request=None, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
        self.received = 0
        if request is not None:
            request.upload_too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.file = StagedUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self._discard()
            if self.request is not None:
                self.request.upload_too_large = True
            # connection_reset=False: the parser drains the rest of the body without storing it.
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        file = getattr(self, "file", None)
        if file is None:
            return
        path = file.temporary_file_path()
        with contextlib.suppress(FileNotFoundError):
            file.close()  # NamedTemporaryFile deletes itself on close
        if os.path.exists(path):
            os.remove(path)
