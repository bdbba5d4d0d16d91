"""The fraud_jlab Jupyter server extension: REST handlers over the core library.

Routes live under ``<base_url>fraud-jlab/api/``; see ``fraud_jlab.server.extension``.
"""
