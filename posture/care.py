"""When to stop and see a clinician: the warning signs shown beside exercises and in reports.

Plain facts for the user, not a diagnosis: back and neck pain with any of these needs a
clinician, not exercises.
"""

from __future__ import annotations

from typing import Any

CARE_TITLE = "When to stop and see a clinician"
CARE_INTRO = ("Stop the exercises and get medical advice promptly if back or neck pain comes "
              "with any of these:")
CARE_SIGNS = (
    "sudden numbness, tingling or weakness in the legs or arms",
    "loss of bladder or bowel control, or numbness around the groin or buttocks",
    "pain after a fall, accident or other severe trauma",
    "neurological symptoms that are getting worse (spreading numbness, weakness, clumsiness)",
    "fever, or feeling unwell, together with back pain",
)
CARE_NOTE = "This tool gives no diagnosis; it only watches posture and counts exercises."


def care_json() -> dict[str, Any]:
    return {"title": CARE_TITLE, "intro": CARE_INTRO, "signs": list(CARE_SIGNS),
            "note": CARE_NOTE}


def care_lines() -> list[str]:
    return [CARE_TITLE, f"  {CARE_INTRO}", *(f"  - {sign}" for sign in CARE_SIGNS),
            f"  {CARE_NOTE}"]
