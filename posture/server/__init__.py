"""The local dashboard: a FastAPI app served inside the `posture run` process."""
