"""Browsing runs: run names as arguments, what a run offers (promote or not), its artifacts.

Core functions shared by the REST handlers, the ``%fraud`` magic and the sidebar's routes;
no tornado or jupyter imports.
"""
