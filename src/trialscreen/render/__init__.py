"""One renderer per output format: plain results in, text out.

Each module takes plain result data (a ``ScreenResult``, a batch row) and returns or
writes text: ``markdown`` (notes, tickets, e-mail), ``json`` (``screen --format json``) and
``batch`` (the CSV and JSON Lines rows of ``trialscreen batch``). The terminal table with
colours lives in the command line package (``trialscreen_cli.terminal``), the only place
that imports rich.
"""
