"""Load the base GGUF as a PyTorch Gemma 3 model, optionally with a LoRA adapter merged.

Build time only (imports torch, transformers, peft inside the function): the
ONNX export and the fine-tuning both start from this dequantized model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import DeskmateError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch


def load_torch_model(gguf_path: Path, adapter_dir: Path | None = None, dtype: "torch.dtype | None" = None) -> Any:
    """Dequantize the GGUF into a `Gemma3ForCausalLM` in eval mode, merging `adapter_dir` if given.

    transformers dequantizes Q4_K_M on load (about a minute on two cores). The
    GGUF stores the embedding once (tied with the output head); we re-tie after
    loading so the head is that same tensor, never a fresh random one.
    """
    import torch
    from transformers import AutoModelForCausalLM

    gguf_path = Path(gguf_path)
    dtype = dtype or torch.float32
    import transformers

    # transformers 4.56 renamed torch_dtype to dtype (the old name warns).
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_arg = {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, low_cpu_mem_usage=True, **dtype_arg
    )
    model.config.tie_word_embeddings = True
    model.tie_weights()
    check_tied_embedding(model)
    if adapter_dir is not None:
        model = merge_adapter(model, Path(adapter_dir))
    model.eval()
    return model


# An adapter folder may hold a second adapter here, merged after the folder's own. It is either a run trained
# with the first already merged into the base (`training.finetune --base-adapter`) or a soup's correction to it
# (`training.soup`, e.g. 0.25 x run 14 - 0.25 x run 7). Going on from a committed adapter then adds a small file
# instead of rewriting a large one the repository keeps every version of.
STACKED = "stacked"


def merge_adapter(model: Any, adapter_dir: Path) -> Any:
    """Merge a PEFT LoRA adapter (and the one in its `stacked/` folder, if any, and so on down) into the weights,
    returning a plain transformers model."""
    if not (adapter_dir / "adapter_config.json").exists():
        raise DeskmateError(
            f"{adapter_dir} is not a LoRA adapter (no adapter_config.json); "
            "pass another --adapter folder or --no-adapter"
        )
    from peft import PeftModel

    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    check_tied_embedding(merged)
    if (adapter_dir / STACKED).is_dir():  # one without its config is refused below, not skipped
        merged = merge_adapter(merged, adapter_dir / STACKED)
    return merged


def check_tied_embedding(model: Any) -> None:
    """The output head must be the input embedding (Gemma ties them; the GGUF has one copy)."""
    head = model.get_output_embeddings().weight
    emb = model.get_input_embeddings().weight
    if head.data_ptr() != emb.data_ptr():
        import torch

        if head.shape != emb.shape or not torch.equal(head, emb):
            raise DeskmateError("The loaded model's output head is not its embedding; the base GGUF looks wrong")
