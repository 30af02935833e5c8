"""posture: a local webcam posture and exercise-form monitor."""

import os as _os

# FFmpeg inside OpenCV prints decoder complaints straight to stderr; we report bad input
# ourselves in one line, so silence it before cv2 is first imported.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")

__version__ = "0.1.0"
