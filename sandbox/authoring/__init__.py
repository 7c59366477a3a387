"""For the people who write exercises: prove them solvable (``check --solve``) and calibrate their thresholds.

``solvability`` runs each solution and the naive baselines on the class's
models; ``calibrate`` suggests a threshold from that and writes it, keeping the
file's layout. This package re-exports nothing.
"""
