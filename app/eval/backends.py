"""The models `deskmate eval` can measure: the built INT8 ONNX model, or a PyTorch model.

Both render with app.prompt.render and decode greedily, so the only difference
between the table's "PyTorch" and "INT8 ONNX" rows is the weights' numerics.
The torch backend is build-time only: torch and transformers are imported when it
is created, never by the installed app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from app.errors import DeskmateError
from app.prompt.render import END, Conversation, render
from app.prompt.ungranted import grant_request, nameable_tools
from app.tools.catalog import ToolSpec


class OnnxBackend:
    """The app's own path: Engine + Assistant (prefix cache, constrained calls)."""

    def __init__(self, model_dir: Path, *, threads: int | None = None, constrained: bool = True,
                 max_tokens: int = 256):
        from app.engine.assistant import Assistant
        from app.engine.engine import Engine

        # No tools up front: cases offer many granted subsets, each compiled once on first use.
        self._assistant = Assistant(Engine.load(Path(model_dir), threads=threads), max_tokens=max_tokens)
        self._constrained = constrained

    def reply(self, conv: Conversation, *, on_text: Callable[[str], None] | None = None) -> str:
        return self._assistant.reply(conv, on_text=on_text, constrained=self._constrained).raw


class TorchBackend:
    """Greedy decoding of a transformers model (the dequantized GGUF, a LoRA adapter merged)."""

    def __init__(self, model: Any, tokenizer: Any, *, constrained: bool = True, max_tokens: int = 256):
        """`model`: a transformers causal LM in eval mode; `tokenizer`: the app's GemmaTokenizer."""
        import torch

        self._torch = torch
        self._model = model
        self.tokenizer = tokenizer
        self._stops = {i for i in (tokenizer.token_to_id(END), tokenizer.token_to_id("<eos>")) if i is not None}
        self._constrained = constrained
        self._max_tokens = max_tokens
        self._grammars: dict[tuple[str, ...], Any] = {}

    @classmethod
    def from_gguf(cls, gguf: Path, adapter: Path | None = None, *, tokenizer: Any = None,
                  threads: int | None = None, **options: Any) -> "TorchBackend":
        """The dequantized GGUF (fp32) with `adapter` merged; the tokenizer is the GGUF's (cached) unless given."""
        import torch

        from app.engine.tokenizer import GemmaTokenizer
        from app.model.loader import load_torch_model
        from app.model.tokenizer import cached_spm_model

        if threads:
            torch.set_num_threads(threads)
        model = load_torch_model(Path(gguf), Path(adapter) if adapter else None)
        return cls(model, tokenizer or GemmaTokenizer.from_file(cached_spm_model(Path(gguf))), **options)

    def _processor(self, tools: Sequence[ToolSpec]) -> Callable[[list[int], Any], Any] | None:
        """The call constraint, the same one the app decodes with (one grammar per tool set)."""
        if not self._constrained:
            return None
        try:
            from app.engine.constrain import CallGrammar
        except ModuleNotFoundError:
            raise DeskmateError("Constrained decoding (app/engine/constrain.py) is not available; "
                                "run with --unconstrained.") from None
        key = tuple(t.name for t in tools) + tuple(str(t.parameters) for t in tools)
        if key not in self._grammars:
            self._grammars[key] = CallGrammar(self.tokenizer, tools)
        return self._grammars[key].processor()

    def reply(self, conv: Conversation, *, on_text: Callable[[str], None] | None = None) -> str:
        torch = self._torch
        prompt_ids = self.tokenizer.encode(render(conv))
        processor = self._processor(nameable_tools(conv))
        generated: list[int] = []
        text = ""
        with torch.inference_mode():
            # logits_to_keep=1: only the last position's logits (the full prompt's would be ~300 MB)
            out = self._model(input_ids=torch.tensor([prompt_ids]), use_cache=True, logits_to_keep=1)
            for _ in range(self._max_tokens):
                logits = out.logits[0, -1].float().numpy()
                if processor is not None:
                    logits = processor(generated, logits)
                token = int(logits.argmax())
                if token in self._stops:
                    note = grant_request(text, conv.grantable)
                    return (note or text) + END
                generated.append(token)
                new_text = self.tokenizer.decode(generated)
                if on_text is not None and len(new_text) > len(text):
                    on_text(new_text[len(text):])
                text = new_text
                out = self._model(input_ids=torch.tensor([[token]]), past_key_values=out.past_key_values,
                                  use_cache=True, logits_to_keep=1)
        return text
