"""training.soup: the averaged adapter, merged by peft, changes the weights by the weighted sum
of what each ingredient changes them by; an adapter stacked on another is merged after it."""

from __future__ import annotations

import copy
import json

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from app.errors import DeskmateError  # noqa: E402
from app.model.loader import STACKED, merge_adapter  # noqa: E402
from app.model.manifest import AdapterInfo  # noqa: E402
from training.soup import Ingredient, soup  # noqa: E402


def _adapter(model, folder, seed: int, r: int):
    """A LoRA adapter on `model` with random A and B (peft starts B at zero), saved to `folder`."""
    config = peft.LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "down_proj"])
    wrapped = peft.get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in wrapped.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
    wrapped.save_pretrained(folder)
    return wrapped.unload()  # the base model, LoRA layers taken out again


def _merged_delta(base, folder) -> dict[str, torch.Tensor]:
    model = merge_adapter(copy.deepcopy(base), folder)
    before = base.state_dict()
    return {k: v - before[k] for k, v in model.state_dict().items() if not torch.equal(v, before[k])}


def test_a_soup_adds_the_weighted_sum_of_its_ingredients_changes(tiny_gemma, tmp_path):
    base = copy.deepcopy(tiny_gemma)  # peft wraps models in place; the fixture is shared
    _adapter(base, tmp_path / "a", seed=1, r=4)
    _adapter(base, tmp_path / "b", seed=2, r=8)
    out = soup([Ingredient(0.25, tmp_path / "a"), Ingredient(0.75, tmp_path / "b")], tmp_path / "soup")
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 12
    a, b, mixed = (_merged_delta(base, tmp_path / name) for name in ("a", "b", "soup"))
    assert set(a) == set(b) == set(mixed) and a  # q_proj and down_proj of both layers
    for name in mixed:
        assert torch.allclose(mixed[name], 0.25 * a[name] + 0.75 * b[name], atol=1e-6), name


def test_a_soup_of_adapters_on_different_layers_is_refused(tiny_gemma, tmp_path):
    base = copy.deepcopy(tiny_gemma)
    _adapter(base, tmp_path / "a", seed=1, r=4)
    peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=["v_proj"])).save_pretrained(tmp_path / "c")
    with pytest.raises(ValueError, match="same layers"):
        soup([Ingredient(0.5, tmp_path / "a"), Ingredient(0.5, tmp_path / "c")], tmp_path / "soup")
    with pytest.raises(ValueError, match="at least one"):
        soup([], tmp_path / "soup")


def test_an_adapter_stacked_in_a_folder_is_merged_after_it_and_counts_in_its_identity(tiny_gemma, tmp_path):
    base = copy.deepcopy(tiny_gemma)
    _adapter(base, tmp_path / "a", seed=1, r=4)
    _adapter(base, tmp_path / "b", seed=2, r=8)
    a, b = (_merged_delta(base, tmp_path / name) for name in ("a", "b"))
    alone = AdapterInfo.of(tmp_path / "a")
    # A soup's correction, as shipped: a quarter of b in place of a quarter of a.
    soup([Ingredient(0.25, tmp_path / "b"), Ingredient(-0.25, tmp_path / "a")], tmp_path / "a" / STACKED)
    both = _merged_delta(base, tmp_path / "a")
    assert set(both) == set(a)
    for name in both:
        assert torch.allclose(both[name], 0.75 * a[name] + 0.25 * b[name], atol=1e-6), name
    assert AdapterInfo.of(tmp_path / "a") != alone  # a changed stacked adapter makes built models out of date


def test_a_stacked_folder_without_its_config_is_refused_not_skipped(tiny_gemma, tmp_path):
    base = copy.deepcopy(tiny_gemma)
    _adapter(base, tmp_path / "a", seed=1, r=4)
    (tmp_path / "a" / STACKED).mkdir()
    with pytest.raises(DeskmateError, match="no adapter_config.json"):
        merge_adapter(copy.deepcopy(base), tmp_path / "a")
