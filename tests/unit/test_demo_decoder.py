"""The demo decoder learns: an image rendered from an image's embedding resembles that image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from necomimi.generation.decoder import check_ip_adapter_file, load_decoder
from necomimi.generation.demo_decoder import build_demo_decoder, train_demo_decoder
from necomimi.generation.demo_decoder_training import thumbnail_latents
from tests.conftest import write_targets

SIZE = 32
#: Four scenes: a shape of one colour on a background of another (RGB in [0, 1]).
SCENES = [((0.9, 0.1, 0.1), (0.1, 0.1, 0.2)), ((0.1, 0.8, 0.2), (0.9, 0.9, 0.85)),
          ((0.1, 0.2, 0.9), (0.5, 0.8, 0.2)), ((0.95, 0.9, 0.2), (0.3, 0.5, 0.9))]  # fmt: skip
TRAINING = dict(seed=0, vae_steps=60, unet_steps=100, batch_size=8, vae_lr=1e-2, unet_lr=3e-3, num_inference_steps=4)


def _scene(shape_rgb, background_rgb, offset: int) -> torch.Tensor:
    image = torch.tensor(background_rgb).view(3, 1, 1).expand(3, SIZE, SIZE).clone()
    image[:, 8 + offset : 22 + offset, 9 : 23 - offset] = torch.tensor(shape_rgb).view(3, 1, 1)
    return image * 2 - 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two images of each scene, each scene its own orthogonal embedding; decoder trained and saved."""
    images = torch.stack([_scene(*scene, offset) for scene in SCENES for offset in (0, 2)])
    basis = torch.linalg.qr(torch.randn(12, 12, generator=torch.Generator().manual_seed(3)))[0][: len(SCENES)]
    embeddings = basis.repeat_interleave(2, dim=0)
    root = tmp_path_factory.mktemp("demo_decoder")
    sdxl, ip_adapter = root / "sdxl", root / "ip" / "ip-adapter_tiny.safetensors"
    build_demo_decoder(sdxl, ip_adapter, images=images, embeddings=embeddings, **TRAINING)
    return sdxl, ip_adapter, images, basis


def test_rendered_images_take_the_colours_of_their_embeddings_image(trained):
    sdxl, ip_adapter, images, basis = trained
    decoder = load_decoder(sdxl, ip_adapter, device=torch.device("cpu"))
    rendered = decoder.render(basis, [1, 2, 3, 4], num_inference_steps=4, guidance_scale=0.0, height=SIZE, width=SIZE)
    rendered = torch.from_numpy(np.stack([np.asarray(image) for image in rendered])).permute(0, 3, 1, 2) / 127.5 - 1
    truth = images[::2]
    error = ((rendered[:, None] - truth[None]) ** 2).mean(dim=(2, 3, 4))  # rendered i against scene j
    assert (error.argmin(dim=1) == torch.arange(len(SCENES))).all(), error
    assert error.diag().max() < 0.5 * error.mean()


def test_the_saved_decoder_is_trained_for_its_embeddings_and_sampler(trained):
    sdxl, ip_adapter, _, basis = trained
    assert check_ip_adapter_file(ip_adapter) == basis.shape[1]
    decoder = load_decoder(sdxl, ip_adapter, device=torch.device("cpu"))
    config = decoder.pipeline.scheduler.config
    assert config.prediction_type == "v_prediction" and config.timestep_spacing == "trailing"
    assert decoder.pipeline.vae.config.latents_std is not None  # the UNet works on standardised latents
    assert decoder.pipeline.unet.config.sample_size == SIZE // 4


def test_thumbnail_latents_hold_the_cell_colours_and_their_spread():
    image = torch.full((1, 3, 8, 8), -1.0)
    image[:, 0, :4, :4] = 1.0  # a red top-left cell
    checkered = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2 * 2.0 - 1  # -1/1 alternating
    image[:, :, 4:, 4:] = checkered
    latents = thumbnail_latents(image, 4)
    assert latents.shape == (1, 4, 2, 2)
    np.testing.assert_allclose(latents[0, :3, 0, 0], [1.0, -1.0, -1.0])
    np.testing.assert_allclose(latents[0, 3, 0, 0], -1.0, atol=1e-3)  # a uniform cell has no spread
    np.testing.assert_allclose(latents[0, :3, 1, 1], [0.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(latents[0, 3, 1, 1], 3.0, atol=1e-3)  # luminance -1/1 alternating: spread 1


def test_the_training_pairs_are_the_targets_images_and_embeddings(tmp_path, monkeypatch):
    from PIL import Image

    train = np.eye(4, 6, dtype=np.float32)
    targets = write_targets(tmp_path / "targets.h5", train, np.eye(2, 6, dtype=np.float32))
    image_dir = tmp_path / "image_set"
    colours = [(200, 10, 10), (10, 200, 10), (10, 10, 200), (200, 200, 10)]
    for c, colour in enumerate(colours):
        folder = image_dir / "training_images" / f"{c + 1:05d}_concept_{c}"
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8), colour).save(folder / f"concept_{c}_{c:02d}.jpg", quality=100)
    captured = {}

    def fake_build(sdxl_dir, ip_adapter_file, *, images, embeddings, **training):
        captured.update(images=images, embeddings=embeddings, training=training)

    monkeypatch.setattr("necomimi.generation.demo_decoder.build_demo_decoder", fake_build)
    train_demo_decoder(tmp_path / "sdxl", tmp_path / "ip.safetensors", image_dir=image_dir, targets_file=targets,
                       seed=5)
    assert captured["images"].shape == (4, 3, 8, 8) and captured["training"] == {"seed": 5}
    np.testing.assert_array_equal(captured["embeddings"].numpy(), train)
    means = (captured["images"].mean(dim=(2, 3)) + 1) * 127.5
    np.testing.assert_allclose(means.numpy(), np.array(colours, dtype=np.float32), atol=3)


def test_bad_training_sets_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\(n, 3, H, H\) images with H a multiple of 4, got \(2, 3, 30, 30\)"):
        build_demo_decoder(tmp_path / "a", tmp_path / "b.safetensors", images=torch.zeros(2, 3, 30, 30),
                           embeddings=torch.zeros(2, 4), **TRAINING)  # fmt: skip
    with pytest.raises(ValueError, match=r"2 training images need \(n, D\) embeddings, got \(3, 4\)"):
        build_demo_decoder(tmp_path / "a", tmp_path / "b.safetensors", images=torch.zeros(2, 3, 32, 32),
                           embeddings=torch.zeros(3, 4), **TRAINING)  # fmt: skip
