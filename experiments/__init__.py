"""Experiments built on jaxgan: one package per experiment, each run as ``python -m experiments.<name>``.

``toy_gan``, ``dcgan``, ``cyclegan``, ``mixture_gan`` and ``benchmark`` each hold a leaf ``config``
module (the settings and the command line), their training, their report and a ``__main__`` (the
command); ``bench`` holds the benchmark's parts and probes; ``runner`` what they all share to run
(command lines, devices, checkpoints and resume, outputs). jaxgan never imports them.
"""
