"""The claims of Elhage et al. 2022 and Gorton & Lewis 2025 that the toy sweeps test: feature
geometry (`elhage`) and adversarial robustness (`adversarial`)."""

from superjax.toy.claims import adversarial, elhage

CLAIMS = elhage.CLAIMS + adversarial.CLAIMS
