"""SciGenBench: judging generated scientific figures (inverse quiz validation, an LMM judge,
image metrics against real figures, spectra)."""
