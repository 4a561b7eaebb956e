"""The image decoder: the demo's tiny SDXL-Turbo loads through the real code path."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionXLPipeline
from safetensors.torch import save_file

from necomimi.generation.decoder import check_ip_adapter_file, check_sdxl_dir, load_decoder, record_decoder_weights
from necomimi.utils.hashing import file_sha256

EMBED_DIM, SIZE = 12, 32
RENDER = dict(num_inference_steps=2, guidance_scale=0.0, height=SIZE, width=SIZE)


def test_demo_decoder_is_written_in_the_real_layouts(tiny_decoder):
    sdxl, ip_adapter = tiny_decoder
    index = json.loads((sdxl / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionXLPipeline"
    for component in ("unet", "vae", "text_encoder", "text_encoder_2"):
        assert any((sdxl / component).glob("*.safetensors")), component
    assert (sdxl / "scheduler" / "scheduler_config.json").is_file()
    scheduler = json.loads((sdxl / "scheduler" / "scheduler_config.json").read_text())
    assert scheduler["_class_name"] == "EulerAncestralDiscreteScheduler"
    assert scheduler["timestep_spacing"] == "trailing"
    assert check_ip_adapter_file(ip_adapter) == EMBED_DIM
    check_sdxl_dir(sdxl)


def test_the_stock_pipeline_holds_only_what_it_uses(decoder):
    pipeline = decoder.pipeline
    assert type(pipeline) is StableDiffusionXLPipeline
    loaded = {name for name, component in pipeline.components.items() if component is not None}
    assert loaded == {"unet", "vae", "scheduler"}  # no image encoder, text encoders released
    assert decoder.prompt_embeds.shape[:2] == (1, 77)
    assert decoder.dtype == torch.float32 and decoder.embed_dim == EMBED_DIM


def test_identical_seeds_give_identical_images(decoder):
    embeddings = torch.randn(2, EMBED_DIM, generator=torch.Generator().manual_seed(0))
    first = decoder.render(embeddings, [7, 8], **RENDER)
    again = decoder.render(embeddings, [7, 8], **RENDER)
    assert first[0].size == (SIZE, SIZE)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    reseeded = decoder.render(embeddings[:1], [9], **RENDER)
    assert not np.array_equal(np.asarray(reseeded[0]), np.asarray(first[0]))
    alone = decoder.render(embeddings[1:], [8], **RENDER)
    other_embedding = decoder.render(embeddings[:1], [8], **RENDER)
    assert not np.array_equal(np.asarray(alone[0]), np.asarray(other_embedding[0]))  # the embedding matters


def _render_pixels(decoder, embeddings, seeds):
    return np.stack([np.asarray(image, dtype=np.int16) for image in decoder.render(embeddings, seeds, **RENDER)])


def test_each_image_of_a_batch_is_rendered_from_its_own_embedding_only(decoder, monkeypatch):
    embeddings = torch.randn(3, EMBED_DIM, generator=torch.Generator().manual_seed(1)) * 30
    seeds = [11, 12, 13]
    batched = _render_pixels(decoder, embeddings, seeds)
    alone = np.concatenate([_render_pixels(decoder, embeddings[i : i + 1], seeds[i : i + 1]) for i in range(3)])
    # batched and single renders differ in the last bits of float32 only
    assert np.abs(batched - alone).max() <= 2
    # diffusers' own prepare_ip_adapter_image_embeds (issue #9813) mixes the batch's embeddings
    stock = StableDiffusionXLPipeline.prepare_ip_adapter_image_embeds.__get__(decoder.pipeline)
    monkeypatch.setattr(decoder.pipeline, "prepare_ip_adapter_image_embeds", stock)
    mixed = _render_pixels(decoder, embeddings, seeds)
    assert np.abs(mixed - alone).mean() > 10 * max(np.abs(batched - alone).mean(), 0.05)


def test_embeddings_of_the_wrong_size_are_refused(decoder):
    with pytest.raises(ValueError, match=rf"takes \(n, {EMBED_DIM}\) embeddings, got \(1, 5\)"):
        decoder.render(torch.zeros(1, 5), [0], **RENDER)
    with pytest.raises(ValueError, match="1 seeds for 2 embeddings"):
        decoder.render(torch.zeros(2, EMBED_DIM), [0], **RENDER)


def _broken_copy(tiny_decoder, tmp_path, breakage):
    sdxl, _ = tiny_decoder
    copy = tmp_path / "sdxl-turbo"
    shutil.copytree(sdxl, copy)
    breakage(copy)
    return copy


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: shutil.rmtree(d), r"sdxl-turbo: SDXL-Turbo folder not found \(config generation.sdxl_turbo"),
        (lambda d: (d / "model_index.json").unlink(), r"model_index.json: missing"),
        (lambda d: (d / "model_index.json").write_text("{not json"), r"model_index.json: not valid JSON"),
        (lambda d: (d / "model_index.json").write_text('{"unet": ["diffusers", "UNet2DConditionModel"]}'),
         r"no entry for vae, text_encoder, text_encoder_2, tokenizer, tokenizer_2, scheduler"),
        (lambda d: (d / "unet" / "diffusion_pytorch_model.safetensors").unlink(),
         r"missing .*unet/diffusion_pytorch_model.safetensors \(weights\)"),
        (lambda d: shutil.rmtree(d / "text_encoder_2"), r"missing .*text_encoder_2/config.json"),
        (lambda d: (d / "scheduler" / "scheduler_config.json").unlink(), r"missing .*scheduler/scheduler_config.json"),
    ],
)
def test_a_missing_or_malformed_sdxl_folder_is_named(tiny_decoder, tmp_path, breakage, message):
    copy = _broken_copy(tiny_decoder, tmp_path, breakage)
    with pytest.raises((FileNotFoundError, ValueError), match=message):
        load_decoder(copy, tiny_decoder[1], device=torch.device("cpu"))


def test_a_missing_variant_is_named(tiny_decoder):
    with pytest.raises(FileNotFoundError, match=r"unet/diffusion_pytorch_model.fp16.safetensors \(weights\)"):
        check_sdxl_dir(tiny_decoder[0], variant="fp16")


def test_a_missing_or_malformed_ip_adapter_is_named(tiny_decoder, tmp_path):
    sdxl, _ = tiny_decoder
    with pytest.raises(FileNotFoundError,
                       match=r"absent.safetensors: IP-Adapter file not found \(config generation.ip_adapter"):
        load_decoder(sdxl, tmp_path / "absent.safetensors", device=torch.device("cpu"))
    (tmp_path / "adapter.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"adapter.bin: expected a .safetensors IP-Adapter file"):
        check_ip_adapter_file(tmp_path / "adapter.bin")
    (tmp_path / "corrupt.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=r"corrupt.safetensors: not a readable safetensors file"):
        check_ip_adapter_file(tmp_path / "corrupt.safetensors")
    save_file({"weight": torch.zeros(2, 2)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match=r"other.safetensors: not an IP-Adapter; expected keys image_proj.proj.weight"):
        check_ip_adapter_file(tmp_path / "other.safetensors")


def test_decoder_weights_are_recorded_by_hash(tiny_decoder, tmp_path):
    sdxl, ip_adapter = tiny_decoder
    record_decoder_weights(sdxl, ip_adapter, tmp_path / "weights.json")
    record = json.loads((tmp_path / "weights.json").read_text())
    assert set(record) == {"ip_adapter", "sdxl_turbo/unet/diffusion_pytorch_model.safetensors",
                           "sdxl_turbo/vae/diffusion_pytorch_model.safetensors",
                           "sdxl_turbo/text_encoder/model.safetensors",
                           "sdxl_turbo/text_encoder_2/model.safetensors"}  # fmt: skip
    assert record["ip_adapter"] == file_sha256(ip_adapter)


def test_sharded_weights_are_recognised(tiny_decoder, tmp_path):
    def shard(folder):
        unet = folder / "unet"
        sharded = unet / "diffusion_pytorch_model-00001-of-00001.safetensors"
        (unet / "diffusion_pytorch_model.safetensors").rename(sharded)
        (unet / "diffusion_pytorch_model.safetensors.index.json").write_text("{}")

    check_sdxl_dir(_broken_copy(tiny_decoder, tmp_path, shard))


def test_ip_adapter_embeddings_must_match_the_batch_without_guidance():
    from necomimi.generation.decoder import _ip_adapter_embeds_per_image

    embeds = [torch.zeros(2, 1, EMBED_DIM)]
    assert _ip_adapter_embeds_per_image(None, embeds, "cpu", 2, False)[0].shape == (2, 1, EMBED_DIM)
    with pytest.raises(ValueError, match="2 IP-Adapter embeddings for a batch of 3 images"):
        _ip_adapter_embeds_per_image(None, embeds, "cpu", 3, False)
    with pytest.raises(ValueError, match="without classifier-free guidance"):
        _ip_adapter_embeds_per_image(None, embeds, "cpu", 2, True)
