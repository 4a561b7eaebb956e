"""CLIP: loading OpenCLIP models from local weights, the demo's tiny CLIP, the targets."""
