"""PKCS#11 templates of the keys csp11 makes: one builder per kind of key.

Templates always state what they mean: secret and private keys are
``CKA_SENSITIVE``; ``CKA_EXTRACTABLE`` is ``CRYPT_EXPORTABLE`` (or
``CRYPT_ARCHIVABLE``); session keys and everything in a verify-only context
are session objects.  Session-key templates are built once per kind and
reused (they hold no key material).
"""

from __future__ import annotations

from typing import Any

from csp11.model.algorithms import Algorithm, Family
from csp11.token import DEFAULT, Attribute, KeyType, ObjectClass

__all__ = ["HMAC_TWIN", "material_template", "pair_templates", "session_template"]

_session_templates: dict[tuple[int, int, bool, bool], dict[Any, object]] = {}


def session_template(
    alg: Algorithm, bits: int, extractable: bool, private: bool
) -> dict[Any, object]:
    """The template of a generated session key of ``alg`` (shared: do not change it)."""
    key = (alg.algid, bits, extractable, private)
    template = _session_templates.get(key)
    if template is None:
        template = {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: alg.key_type,
            Attribute.TOKEN: False,
            # Session objects are visible only to this process; PRIVATE would
            # make verify-only contexts (no PIN on Windows) need a login.  A
            # user-protected session key is PRIVATE: usable only after login.
            Attribute.PRIVATE: private,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: extractable,
            Attribute.MODIFIABLE: True,  # so that export can be withdrawn later
            Attribute.ENCRYPT: True,
            Attribute.DECRYPT: True,
            Attribute.WRAP: True,     # SYMMETRICWRAPKEYBLOB: a session key as KEK
            Attribute.UNWRAP: True,
            Attribute.SIGN: False,
            Attribute.VERIFY: False,
            Attribute.DERIVE: False,
        }
        if alg.parity_bits:
            # The token knows the DES family's lengths; SoftHSM2 refuses a
            # CKA_VALUE_LEN for them (python-pkcs11 adds one for DES).
            template[Attribute.VALUE_LEN] = DEFAULT
        else:
            template[Attribute.VALUE_LEN] = bits // 8
        _session_templates[key] = template
    return template


def material_template(
    alg: Algorithm, bits: int, extractable: bool, private: bool
) -> dict[Any, object]:
    """The template of a session key created from known material (an import, a
    derivation, an unwrap): :func:`session_template` without ``CKA_VALUE_LEN``,
    which the token sets itself for such keys."""
    template = dict(session_template(alg, bits, extractable, private))
    template.pop(Attribute.VALUE_LEN, None)
    return template



def pair_templates(
    alg: Algorithm, *, protected: bool, extractable: bool, dual_use: bool = False
) -> tuple[dict[Any, object], dict[Any, object]]:
    """(private, public) templates of a session key pair of ``alg``, without its
    numbers: what every pair csp11 makes or imports states about itself.

    ``dual_use``: the token makes every RSA pair for signing and decryption
    (the quirk :attr:`csp11.token.quirks.Quirks.rsa_pairs_dual_use`), and
    refuses a template that says otherwise, so the template says so too.
    """
    public: dict[Any, object] = {
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        Attribute.KEY_TYPE: alg.key_type,
        Attribute.TOKEN: False,
        Attribute.PRIVATE: False,
    }
    private: dict[Any, object] = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.KEY_TYPE: alg.key_type,
        Attribute.TOKEN: False,
        # CKA_ALWAYS_AUTHENTICATE needs PRIVATE (TOKEN-FACTS).
        Attribute.PRIVATE: protected,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: extractable,
        Attribute.MODIFIABLE: True,
    }
    if protected:
        private[Attribute.ALWAYS_AUTHENTICATE] = True
    if alg.family is Family.RSA:
        exchange = alg.exchange or dual_use
        public.update({Attribute.VERIFY: True, Attribute.ENCRYPT: exchange,
                       Attribute.WRAP: exchange})
        private.update({Attribute.SIGN: True, Attribute.DECRYPT: exchange,
                        Attribute.UNWRAP: exchange, Attribute.DERIVE: False})
    elif alg.family is Family.DSA:
        public[Attribute.VERIFY] = True
        private[Attribute.SIGN] = True
    else:
        private[Attribute.DERIVE] = True
    return private, public


# The generic secret an HMAC runs with (see csp11.ops.hashing).
HMAC_TWIN: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
}
