"""Operations: one module per CryptoAPI concern, each a set of functions over core state.

Arguments arrive checked by the public layer (:mod:`csp11.win32crypt`);
results are core states that the public layer wraps in handles.
"""
