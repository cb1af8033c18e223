"""Makes this tree importable as ansible_collections.outerloop.docker for the tests."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
_LINK = ROOT / ".lab" / "pythonpath" / "ansible_collections" / "outerloop" / "docker"

# The link must lead to this checkout (a .lab shared with another worktree may hold one to elsewhere).
if not _LINK.is_symlink() or _LINK.resolve() != ROOT:
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.unlink(missing_ok=True)
    _LINK.symlink_to(ROOT, target_is_directory=True)
if str(_LINK.parents[2]) not in sys.path:
    sys.path.insert(0, str(_LINK.parents[2]))
