"""The on-device inference engine (ONNX Runtime + SentencePiece + llguidance + numpy; never torch).

`Engine` and its result types are imported lazily so that `import app.engine.constrain`
(or anything else under app.engine) does not load onnxruntime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Engine", "Generation", "GenerationEvent"]

if TYPE_CHECKING:  # pragma: no cover
    from app.engine.engine import Engine, Generation, GenerationEvent


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.engine import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'app.engine' has no attribute {name!r}")
