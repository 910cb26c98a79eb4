"""The bundled trial library: one YAML criteria file per trial, named by its id.

This folder is installed as the ``trialscreen_trials`` package so that the
bundled trials travel with the program; see README.md here for the format.
"""
