"""necomimi: the NECOMIMI EEG-to-image study as a reproducible workflow.

References
----------
.. [1] Chen, C.-S., & Wei, C.-S. (2024). Mind's Eye: Image Recognition by EEG via
       Multimodal Similarity-Keeping Contrastive Learning / NECOMIMI: Neural-Cognitive
       Multimodal EEG-informed Image Generation with Diffusion Models.
       arXiv:2410.00712.
"""

from necomimi import _cpu_compat

# First thing: later imports of open_clip, diffusers, transformers or braindecode pull
# in torchvision/torchaudio, which need the compatibility finder on a CPU-only torch.
_cpu_compat.install()

__version__ = "0.1.0"
