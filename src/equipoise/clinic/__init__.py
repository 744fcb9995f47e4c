"""The clinic: a measurement-based-care web application on top of the ``care`` stage.

Nothing in equipoise imports this package; the ``equipoise clinic`` command is registered
through the ``equipoise.commands`` entry point. Install with ``pip install "equipoise[clinic]"``.
"""
