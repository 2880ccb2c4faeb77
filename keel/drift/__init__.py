"""Drift detection against a training baseline: PSI over quantile bins and an exact, vectorised KS test.

`baseline` (the stored reference), `psi`, `ks` (statistics), `detect` (verdict and report schema),
`svg` + `html` (the self-contained HTML report), `reports` (writing both reports).
"""
