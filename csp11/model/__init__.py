"""Model: what each ALG_ID, hash, mechanism and provider *means* on a PKCS#11 token.

The single home of "CALG_x is mechanism y with parameters z": tables
(:mod:`~csp11.model.algorithms`, :mod:`~csp11.model.hashes`,
:mod:`~csp11.model.mechanisms`, :mod:`~csp11.model.providers`) and what a
provider offers on a given token (:mod:`~csp11.model.capabilities`).
"""
