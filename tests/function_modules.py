"""Load a function's handler module straight from functions/, for unit tests of its pure parts."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from breakwater.template import PROJECT_ROOT


def load(function: str, name: str | None = None) -> ModuleType:
    """``functions/<function>/app.py`` as a module of its own (registered: dataclasses look their module up)."""
    name = name or f"{function}_app"
    folder = PROJECT_ROOT / "functions" / function
    # The function's folder is its task root, as in Lambda: app.py imports its siblings (breaker_record).
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
