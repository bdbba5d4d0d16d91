"""The local demo: an AWS emulator, a seeded tracker and ``fraud-jlab demo`` (JupyterLab).

See :mod:`fraud_jlab.demo.emulator`, :mod:`fraud_jlab.demo.seed` and :mod:`fraud_jlab.demo.cli`.
"""
