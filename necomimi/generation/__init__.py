"""Two-stage generation (SPEC.md section 6): EEG features, the diffusion prior, the decoder.

- :mod:`~necomimi.generation.features`: encoder outputs per trial and per test image,
  with the channel perturbation of a condition;
- :mod:`~necomimi.generation.prior`: training and sampling of the diffusion prior;
- :mod:`~necomimi.generation.decoder`: SDXL-Turbo with an IP-Adapter from local files;
- :mod:`~necomimi.generation.images`: the three modes per test image, sidecars and
  regeneration of one image;
- :mod:`~necomimi.generation.seeds`: per-image random streams;
- :mod:`~necomimi.generation.demo_decoder`: the demo's tiny decoder.
"""
