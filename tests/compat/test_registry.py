"""The registry of compatibility patches: every patch is installed, each is shown needed, none overlaps."""

from __future__ import annotations

import re
from pathlib import Path

from breakwater.local import compat


def test_no_two_patches_replace_the_same_attribute():
    # Patches are removed one at a time (compat.disabled): two on one attribute would undo each other.
    owners: dict[tuple[int, str], list[str]] = {}
    for patch in compat.PATCHES.values():
        for owner, attribute, _ in patch.targets:
            owners.setdefault((id(owner), attribute), []).append(patch.name)

    assert [names for names in owners.values() if len(names) > 1] == []


def test_every_patch_is_installed(embedded):
    assert {name for name, patch in compat.PATCHES.items() if patch.active} == set(compat.PATCHES)


def test_every_patch_has_a_test_that_runs_without_it():
    sources = "\n".join(path.read_text() for path in Path(__file__).parent.parent.rglob("test_*.py"))
    proven = set(re.findall(r'compat\.disabled\("([a-z0-9_]+)"\)', sources))

    assert proven == set(compat.PATCHES)
    # Each has its row in docs/local-stack.md, generated from its module's docstring (tests/unit/test_docgen.py).
    assert set(compat.PATCHES) == {name for name in compat.MODULES if name != "task_clients"} | {"task_clients_reused"}


# Patches tested outside tests/compat, each with the reason its test lives where it does.
TESTED_ELSEWHERE = {
    "execution_type": "tests/workflow/test_aws_limits.py: an EXPRESS execution differs from a STANDARD one only in the"
    " limits it meets, so its test needs that module's limited stack",
}


def test_every_patch_has_its_own_test_module():
    here = Path(__file__).parent
    without = [name for name in compat.MODULES if not (here / f"test_{name}.py").exists()]

    assert without == sorted(TESTED_ELSEWHERE, key=compat.MODULES.index)
    for name, reason in TESTED_ELSEWHERE.items():
        assert f'compat.disabled("{name}")' in (here.parents[1] / reason.split(":")[0]).read_text()
