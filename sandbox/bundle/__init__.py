"""Bundles for classrooms with no internet: made on a connected computer (``build``, ``wheels``), installed with no network (``installer``)."""
