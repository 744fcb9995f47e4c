"""What trials reported: typed records, the treatment catalogue, effect sizes and file I/O.

No pooling happens here; see :mod:`equipoise.synthesis`.
"""
