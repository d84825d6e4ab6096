"""Small learned networks (restoration, x2 super-resolution), their training and committed weights.

``nets`` (architectures and weight files), ``data`` (training pairs from ``restoration.degrade``),
``train`` (`python -m restoration train`), ``learned_ops`` (registry ops ``learned_restore`` and
``learned_upscale``), ``shot_net`` (the learned shot-boundary detector over the analysis' cues;
trained by ``restoration.analysis.shot_training``). See ``README.md`` for how each weight file
was produced.
"""
