"""Contrastive training of the EEG encoders against CLIP targets (SPEC.md section 4)."""
