"""posture: a local webcam posture and exercise-form monitor."""

import os as _os

# FFmpeg inside OpenCV prints decoder complaints straight to stderr; we report bad input
# ourselves in one line, so silence it before cv2 is first imported.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
# Largest image decoded, in pixels (documented in the README). Sources check image headers
# against it first; this makes OpenCV refuse anything larger that slips past them.
MAX_IMAGE_PIXELS = 40_000_000
_os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

__version__ = "0.1.0"
