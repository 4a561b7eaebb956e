"""braindecode baselines behind necomimi's encoder signature.

The reference wraps five braindecode models as contrastive encoders (SPEC.md 3.9), but
four of them end in ``LogSoftmax``, so their "embedding" is a log-probability vector
(``exp(out).sum() == 1``), which cripples contrastive learning. Here each model comes
from braindecode 1.8 itself, configured with the reference's hyper-parameters, and
ends in its own linear output layer of size ``n_outputs`` used as the embedding head:
no softmax of any kind. The adapters differ only in which braindecode class and
which keyword arguments they use.
"""

from __future__ import annotations

import importlib

import torch
from torch import nn

from necomimi.models.encoders._base import EEGEncoder


class _BraindecodeEncoder(EEGEncoder):
    """A braindecode model used as an encoder; subclasses set the class and arguments.

    Parameters
    ----------
    n_outputs, n_chans, n_times, sfreq
        See :class:`~necomimi.models.encoders._base.EEGEncoder`; defaults 1024, 63,
        250 and 250 Hz.
    drop_prob : float
        The braindecode model's dropout (``dropout_argument``).
    **kwargs
        The braindecode model's other arguments.
    """

    #: The braindecode model's class name in ``braindecode.models``. It is imported only
    #: when a baseline is built: importing braindecode pulls in torchvision and
    #: torch._dynamo, about 1.5 s per process for every job that only needs NERV or NICE.
    braindecode_name: str
    #: The braindecode keyword that ``drop_prob`` sets.
    dropout_argument = "drop_prob"

    def __init__(self, n_outputs, n_chans, n_times, sfreq, drop_prob, **kwargs):
        super().__init__(n_outputs, n_chans, n_times, sfreq)
        self.drop_prob = drop_prob
        braindecode_class = getattr(importlib.import_module("braindecode.models"), self.braindecode_name)
        try:
            self.model = braindecode_class(
                n_chans=self.n_chans,
                n_outputs=self.n_outputs,
                n_times=self.n_times,
                sfreq=self.sfreq,
                **{self.dropout_argument: drop_prob},
                **kwargs,
            )
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f"{type(self).__name__}: braindecode {self.braindecode_name} cannot be "
                f"built for n_chans={self.n_chans}, n_times={self.n_times}: {error}"
            ) from error

    @property
    def final_layer(self) -> nn.Module:
        """The braindecode model's linear output layer: the embedding head."""
        return self.model.final_layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.model(x)


class EEGNetEncoder(_BraindecodeEncoder):
    """braindecode ``EEGNet`` as an encoder (the reference's ``EEGNetv4_Encoder``).

    Reference arguments (SPEC.md 3.9): F1=8, D=20, F2=160, kernel_length=4,
    pool_mode='mean', drop_prob=0.25; braindecode 1.8 renamed ``EEGNetv4`` to
    ``EEGNet`` and has no ``third_kernel_size`` (EEGNetv4 ignored it). Its final
    convolution is the linear embedding head; in the reference too this one had no
    log-softmax.

    References
    ----------
    .. [1] Lawhern, V. J., et al. (2018). EEGNet: a compact convolutional neural
           network for EEG-based brain-computer interfaces. J. Neural Eng., 15(5).
    """

    braindecode_name = "EEGNet"

    def __init__(self, n_outputs: int = 1024, n_chans: int = 63, n_times: int = 250, sfreq: float = 250.0,
                 drop_prob: float = 0.25) -> None:  # fmt: skip
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob,
                         final_conv_length="auto", pool_mode="mean", F1=8, D=20, F2=160, kernel_length=4)  # fmt: skip


class ShallowFBCSPEncoder(_BraindecodeEncoder):
    """braindecode ``ShallowFBCSPNet`` as an encoder, with a linear embedding head.

    Reference arguments (SPEC.md 3.9): 20 temporal filters of 20 samples, 20 spatial
    filters, mean pooling 25/5, batch norm (alpha 0.1), drop_prob=0.5. The reference
    ended in ``LogSoftmax``; here the final convolution is the embedding.

    References
    ----------
    .. [1] Schirrmeister, R. T., et al. (2017). Deep learning with convolutional
           neural networks for EEG decoding and visualization. Hum. Brain Mapp., 38.
    """

    braindecode_name = "ShallowFBCSPNet"

    def __init__(self, n_outputs: int = 1024, n_chans: int = 63, n_times: int = 250, sfreq: float = 250.0,
                 drop_prob: float = 0.5) -> None:  # fmt: skip
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob,
                         n_filters_time=20, filter_time_length=20, n_filters_spat=20,
                         pool_time_length=25, pool_time_stride=5, final_conv_length="auto",
                         pool_mode="mean", split_first_layer=True, batch_norm=True,
                         batch_norm_alpha=0.1)  # fmt: skip


class EEGConformerEncoder(_BraindecodeEncoder):
    """braindecode ``EEGConformer`` as an encoder, with a linear embedding head.

    Reference arguments (SPEC.md 3.9): 40 filters of 10 samples, pooling 25/5,
    drop_prob=0.25, 2 attention layers with 1 head, attention dropout 0.5; the fully
    connected length (1760 for 250 samples) is computed by braindecode. The
    reference ended in ``LogSoftmax``; here the last linear layer is the embedding.

    References
    ----------
    .. [1] Song, Y., Zheng, Q., Liu, B., & Gao, X. (2023). EEG Conformer:
           convolutional transformer for EEG decoding and visualization. IEEE TNSRE, 31.
    """

    braindecode_name = "EEGConformer"

    def __init__(self, n_outputs: int = 1024, n_chans: int = 63, n_times: int = 250, sfreq: float = 250.0,
                 drop_prob: float = 0.25) -> None:  # fmt: skip
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob,
                         n_filters_time=40, filter_time_length=10, pool_time_length=25,
                         pool_time_stride=5, num_layers=2, num_heads=1, att_drop_prob=0.5,
                         final_fc_length="auto")  # fmt: skip


class ATCNetEncoder(_BraindecodeEncoder):
    """braindecode ``ATCNet`` as an encoder, with a linear embedding head.

    Reference arguments (SPEC.md 3.9): 8 filters, kernels 32/8, pooling 4/3, depth
    multiplier 2, convolution dropout 0.3, 5 windows, 2 heads of size 4, attention
    dropout 0.5, TCN depth 2 and kernel 4 (16 filters), TCN dropout 0.3, max-norm
    0.25. ``drop_prob`` sets the convolution block's dropout. The reference ended in
    ``LogSoftmax``; here the averaged window outputs are the embedding.

    References
    ----------
    .. [1] Altaheri, H., Muhammad, G., & Alsulaiman, M. (2023). Physics-informed
           attention temporal convolutional network for EEG-based motor imagery
           classification. IEEE Trans. Ind. Inform., 19(2).
    """

    braindecode_name = "ATCNet"
    dropout_argument = "conv_block_dropout"

    def __init__(self, n_outputs: int = 1024, n_chans: int = 63, n_times: int = 250, sfreq: float = 250.0,
                 drop_prob: float = 0.3) -> None:  # fmt: skip
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob,
                         conv_block_n_filters=8, conv_block_kernel_length_1=32,
                         conv_block_kernel_length_2=8, conv_block_pool_size_1=4,
                         conv_block_pool_size_2=3, conv_block_depth_mult=2, n_windows=5,
                         head_dim=4, num_heads=2, att_drop_prob=0.5, tcn_depth=2,
                         tcn_kernel_size=4, tcn_drop_prob=0.3, concat=False,
                         max_norm_const=0.25)  # fmt: skip


class EEGITNetEncoder(_BraindecodeEncoder):
    """braindecode ``EEGITNet`` as an encoder, with a linear embedding head.

    Reference arguments (SPEC.md 3.9): drop_prob=0.4, other values braindecode's
    defaults. The reference ended in ``LogSoftmax``; here the final linear layer is
    the embedding.

    References
    ----------
    .. [1] Salami, A., Andreu-Perez, J., & Gillmeister, H. (2022). EEG-ITNet: an
           explainable inception temporal convolutional network for motor imagery
           classification. IEEE Access, 10.
    """

    braindecode_name = "EEGITNet"

    def __init__(self, n_outputs: int = 1024, n_chans: int = 63, n_times: int = 250, sfreq: float = 250.0,
                 drop_prob: float = 0.4) -> None:  # fmt: skip
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob)
