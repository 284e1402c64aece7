"""A key on a token: its python-pkcs11 objects (a secret key, or a private and
public key), the session they live in, and every use of them (encrypt,
sign, wrap, extract, agree, attributes), each run through that session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from csp11 import winerror
from csp11.errors import Fail
from csp11.token import fastpath
from csp11.token.constants import (
    _NO_CAPABILITIES,
    CKR_OK,
    Attribute,
    KeyType,
    Mechanism,
    ObjectClass,
)
from csp11.token.cryptoki import Library, _ulong
from csp11.token.forkgate import generation, library_call
from csp11.token.operation import Operation
from csp11.token.pins import PinRequest, PinSources
from csp11.token.pypkcs11 import as_key_type, as_mechanism, as_object_class
from csp11.token.session import _Pooled
from csp11.token.template import check_template

_T = TypeVar("_T")
_GATE = library_call()  # the same gate every call returns

# Mechanisms with which the public key of a pair wraps (the rest use the
# secret key).
_PUBLIC_WRAPS = frozenset({Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP})
_KEK_MECHANISM = Mechanism.AES_KEY_WRAP_PAD
_UNWRAP_BAD_INPUT = frozenset({
    "CKR_GENERAL_ERROR", "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE",
    "CKR_WRAPPED_KEY_INVALID", "CKR_WRAPPED_KEY_LEN_RANGE", "CKR_DATA_INVALID",
    "CKR_DATA_LEN_RANGE",
})
# The ephemeral key-encryption key of TokenKey.extract: a session object that
# only wraps, readable (it protects nothing once the call returns).
_KEK_TEMPLATE: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.AES,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: False,
    Attribute.EXTRACTABLE: True,
    Attribute.WRAP: True,
    Attribute.UNWRAP: False,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
    Attribute.VALUE_LEN: 32,
}
# TokenKey.agree's shared secret: read once, then destroyed.
_AGREED_TEMPLATE: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: False,
    Attribute.EXTRACTABLE: True,
}


class KeyHome(Protocol):
    """The token a key lives on, as the key (and its users, through
    ``key.token``) reach it: a :class:`csp11.token.token.Token`, described here
    rather than imported (the token makes keys, so its module imports this
    one)."""

    @property
    def label(self) -> str: ...

    @property
    def module(self) -> Library: ...

    def run_on(self, pooled: _Pooled, doing: str, fn: Callable[[Any], _T]) -> _T: ...

    def run(self, doing: str, fn: Callable[[Any], _T], pins: PinSources | None = None) -> _T: ...

    def operation(self, kind: str, mechanism: Any, key: Any | None = None,
                  param: bytes | None = None) -> Operation: ...

    def mechanisms(self) -> Mapping[int, object]: ...

    def check_generation(self) -> None: ...

    def bury(self, key: TokenKey) -> None: ...

    def wrote_token_objects(self) -> None: ...


class TokenKey:
    """A key's objects on the token: a secret key, or a private and public key.

    The objects live in their home session (session objects vanish when it
    closes), and every use goes through that session's lock.  Several
    CryptoAPI handles may share one ``TokenKey`` (``CryptDuplicateKey``);
    the objects are destroyed when the last handle lets go, and only if they
    are session objects.
    """

    __slots__ = (
        "_lock", "_obj", "_protected", "_refs", "_unmade", "certificate", "home", "public",
        "stored_as", "token", "token_object", "transient",
    )

    def __init__(
        self, token: KeyHome, home: _Pooled, obj: Any | None, public: Any | None, *,
        token_object: bool,
    ) -> None:
        self.token = token
        self.home = home
        # A secret key fastpath.generate_handle made comes as (handle,
        # capabilities): its python-pkcs11 object is made at the first use
        # of .obj, so a key destroyed unused never needs one.
        self._unmade: tuple[int, tuple[bool, ...]] | None = None
        if isinstance(obj, tuple):
            self._unmade, obj = obj, None
        self._obj = obj         # secret key, or private key of a pair; None: a lone public key
        self.public = public    # public key of a pair, else None
        self.token_object = token_object  # persistent (container) objects are never destroyed
        self.certificate: Any | None = None  # KP_CERTIFICATE's object, beside a key pair
        # (CKA_LABEL, CKA_ID) of a container's stored pair, for its certificate.
        self.stored_as: tuple[str, bytes] | None = None
        # Session objects made for the handles of token objects (a public key
        # from a certificate): destroyed with the last handle even when the
        # token objects stay.
        self.transient: list[Any] = []
        self._refs = 1
        self._lock = threading.Lock()
        self._protected: bool | None = None  # CKA_ALWAYS_AUTHENTICATE, read once

    def __repr__(self) -> str:
        unmade = self._unmade
        main: Any = self._obj if self._obj is not None else self.public
        handle = unmade[0] if unmade is not None else main.handle
        return f"<csp11 TokenKey handle={handle} token={self.token.label!r}>"

    @property
    def obj(self) -> Any | None:
        """The secret key, or the private key of a pair (python-pkcs11's
        object); None for a lone public key."""
        found = self._obj
        if found is None:
            if self._unmade is None:
                # A lone public key; or another thread made the object just
                # now (_make_obj sets _obj before it clears _unmade): read again.
                return self._obj
            found = self._make_obj()
        return found

    @property
    def key_handle(self) -> int:
        """The secret or private key's object handle, without making
        python-pkcs11's object for a generated key (the calls straight on the
        function list need only the handle)."""
        unmade = self._unmade
        if unmade is not None:
            return unmade[0]
        obj = self.obj
        if obj is None:
            raise Fail(winerror.NTE_BAD_KEY, "a lone public key has no private key")
        return int(obj.handle)

    def _make_obj(self) -> Any:
        with self._lock:
            unmade = self._unmade
            if unmade is None:  # another thread made it meanwhile
                return self._obj
            handle, capabilities = unmade
            made = fastpath.object_for(self.home.session, handle, capabilities)
            if made is None:
                made = self.token.run_on(self.home, "C_FindObjects",
                                         lambda s: fastpath.find_secret(s, handle))
            self._obj = made
            self._unmade = None  # after _obj: see obj
            return made

    def share(self) -> TokenKey:
        """One more CryptoAPI handle uses these objects (``ERROR_INVALID_HANDLE``
        once the last one let go: they may be gone already)."""
        with self._lock:
            if self._refs <= 0:
                raise Fail(winerror.ERROR_INVALID_HANDLE, "the key has been destroyed")
            self._refs += 1
        return self

    def release(self) -> None:
        """A handle lets go; the last one destroys session objects."""
        with self._lock:
            self._refs -= 1
            if self._refs:
                return
            # Read under the lock: _make_obj turns _unmade into _obj under it.
            obj, unmade = self._obj, self._unmade
        if self.token_object:
            handles = [o.handle for o in self.transient]
        elif (unmade is not None and obj is None and self.public is None
              and self.certificate is None):
            self._destroy_unmade(unmade[0])  # a generated key nothing used (hot path)
            return
        else:
            handles = [o.handle for o in (obj, self.public, self.certificate) if o is not None]
            if unmade is not None:
                handles.append(unmade[0])
        if not handles or not self.home.alive:
            return
        # Straight on the function list (each one, even when another fails).
        ck = self.token.module.cryptoki
        if self.home.lock.locked():
            # The home session is busy with another thread's work (it is a
            # pool session too: a 2048-bit key pair takes 0.1 s).  Session
            # objects are visible to every session of the process, so any
            # free session destroys them, and this thread does not wait.
            self.token.run("C_DestroyObject", lambda s: fastpath.destroy(ck, s.handle, handles))
            return
        self.token.run_on(self.home, "C_DestroyObject",
                          lambda s: fastpath.destroy(ck, s.handle, handles))

    def _destroy_unmade(self, handle: int) -> None:
        """``C_DestroyObject`` of a secret key :func:`fastpath.generate_handle`
        made and nothing used: what the general path below does, inline, in
        the home session when it is free; a failure goes on through
        ``run_on`` as if met there."""
        home = self.home
        if not home.alive:
            return
        ck = self.token.module.cryptoki
        rv = CKR_OK
        if home.lock.acquire(blocking=False):
            try:
                if home.generation != generation():
                    self.token.check_generation()  # a child after fork(): refused there
                destroy_as_is = fastpath.calls_of(ck).destroy_as_is
                with _GATE:
                    rv = destroy_as_is(home.handle_arg, _ulong(handle))
            finally:
                home.lock.release()
            if rv == CKR_OK:
                return
        failed = [rv] if rv != CKR_OK else []
        handles = [handle]

        def destroy(s: Any) -> None:
            if failed:  # the call that failed above: its failure, handled as ever
                fastpath.raise_for(failed.pop())
            fastpath.destroy(ck, s.handle, handles)

        if not failed and home.lock.locked():
            # As in release(): another thread's work holds the home session.
            self.token.run("C_DestroyObject", destroy)
            return
        self.token.run_on(home, "C_DestroyObject", destroy)

    def attribute(self, attr: Any, obj: Any | None = None) -> Any:
        """``C_GetAttributeValue`` of one attribute (of the secret/private key by default)."""
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public
        return self.token.run_on(self.home, "C_GetAttributeValue", lambda s: target[attr])

    def attributes(self, attrs: list[Any], obj: Any | None = None) -> dict[Any, Any]:
        """``C_GetAttributeValue`` of several attributes in one call."""
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public
        found: dict[Any, Any] = self.token.run_on(
            self.home, "C_GetAttributeValue", lambda s: target.get_attributes(attrs)
        )
        return found

    def copy(self, obj: Any, template: Mapping[Any, object]) -> Any:
        """``C_CopyObject`` of one of this key's objects, changed by ``template``."""
        check_template(template)
        copied = self.token.run_on(self.home, "C_CopyObject", lambda s: obj.copy(template))
        if template.get(Attribute.TOKEN):
            self.token.wrote_token_objects()
        return copied

    def create_beside(self, template: Mapping[Any, object]) -> Any:
        """``C_CreateObject`` in this key's session (e.g. its certificate)."""
        check_template(template)
        made = self.token.run_on(
            self.home, "C_CreateObject", lambda s: s.create_object(template)
        )
        if template.get(Attribute.TOKEN):
            self.token.wrote_token_objects()
        return made

    def destroy_object(self, obj: Any) -> None:
        """``C_DestroyObject`` of an object made with :meth:`create_beside`."""
        self.token.run_on(self.home, "C_DestroyObject", lambda s: obj.destroy())
        if self.token_object:
            self.token.wrote_token_objects()

    @property
    def protected(self) -> bool:
        """Whether the private key wants its PIN at every use (CKA_ALWAYS_AUTHENTICATE)."""
        if self._protected is None:
            found = False
            if self.obj is not None and self.public is not None:
                try:
                    found = bool(self.attribute(Attribute.ALWAYS_AUTHENTICATE))
                except Fail as exc:
                    # Only a token without the attribute means "not protected";
                    # any other failure is raised (fail closed) and not cached.
                    if exc.ckr != "CKR_ATTRIBUTE_TYPE_INVALID":
                        raise
            self._protected = found
        return self._protected

    def key_use_pin(self, pins: PinSources, container: str | None) -> str | None:
        """The per-use PIN of a user-protected private key (``None`` for other keys).

        Asked for every operation: the prompt's reason is
        ``"key-use"``.  The token checks it in the operation's context login.
        """
        if not self.protected:
            return None
        pin = pins.for_key_use(PinRequest(self.token.label, container, "key-use"))
        try:
            pin.encode("utf-8")
            valid = True
        except UnicodeEncodeError:
            valid = False  # raised below, outside the handler: the exception holds the PIN
        if not valid:
            raise Fail(winerror.SCARD_W_WRONG_CHV, "the key-use PIN is not valid text (UTF-8)")
        return pin

    def authorize_use(self, pins: PinSources, container: str | None) -> None:
        """Check the key-use PIN of a user-protected key before an operation the
        token does not guard itself.

        SoftHSM2 lets ``C_UnwrapKey`` through with an always-authenticate key
        (TOKEN-FACTS), so csp11 makes the token verify the PIN the way it does
        for signatures: ``C_SignInit``, ``C_Login(CKU_CONTEXT_SPECIFIC)``,
        ``C_Sign`` of a dummy digest.  A wrong PIN fails here, before the key
        is used.
        """
        pin = self.key_use_pin(pins, container)
        if pin is None:
            return
        kind = self.attribute(Attribute.KEY_TYPE)
        if kind not in (KeyType.RSA, KeyType.DSA):
            # No operation of such a key (DH) takes a context login: the PIN
            # cannot be checked by the token, so the use is refused.
            raise Fail(
                winerror.NTE_BAD_KEY,
                "the token cannot check this user-protected key's PIN per use",
            )
        self.sign(bytes(20), Mechanism.DSA if kind == KeyType.DSA else Mechanism.RSA_PKCS, pin)

    def encrypt(self, data: bytes, mechanism: Any, param: Any = None) -> bytes:
        """``C_EncryptInit`` + ``C_Encrypt`` with this secret key (or the public key
        of a pair), in one call."""
        if self.public is None and (param is None or isinstance(param, bytes)):
            # A secret key: straight on the function list (csp11.token.fastpath).
            ck = self.token.module.cryptoki
            handle = self.key_handle
            lean: bytes = self._run_lean(
                "C_Encrypt",
                lambda s: fastpath.crypt(ck, s.handle, handle, encrypting=True,
                                         mechanism=int(mechanism), param=param, data=data),
            )
            return lean
        target: Any = self.obj if self.public is None else self.public
        out: bytes = self.token.run_on(
            self.home, "C_Encrypt",
            lambda s: target.encrypt(data, mechanism=as_mechanism(mechanism),
                                     mechanism_param=param),
        )
        return out

    def decrypt(self, data: bytes, mechanism: Any, param: Any = None,
                pin: str | None = None) -> bytes:
        """``C_DecryptInit`` + ``C_Decrypt`` with the secret or private key; ``pin``
        is the key-use PIN of a user-protected key (context-specific login)."""
        if self.public is None and pin is None and (param is None or isinstance(param, bytes)):
            ck = self.token.module.cryptoki
            handle = self.key_handle
            return self._private_operation(
                "decrypt",
                lambda s: fastpath.crypt(ck, s.handle, handle, encrypting=False,
                                         mechanism=int(mechanism), param=param, data=data),
                lean=True,
            )
        target: Any = self.obj
        return self._private_operation(
            "decrypt",
            lambda s: target.decrypt(data, mechanism=as_mechanism(mechanism),
                                     mechanism_param=param, pin=pin),
        )

    def crypt_once(self, kind: str, mechanism: Any, param: bytes | None, data: bytes) -> bytes:
        """``C_EncryptInit``/``C_DecryptInit`` with a packed mechanism parameter, the
        update and the final, on an operation session (for what python-pkcs11
        cannot express, e.g. ``CK_RC2_CBC_PARAMS``)."""
        op = self.token.operation(kind, mechanism, self.obj, param)
        try:
            return op.crypt(data) + op.finish()
        except BaseException:
            op.abort()
            raise

    def sign(self, data: bytes, mechanism: Any, pin: str | None = None) -> bytes:
        """``C_Sign`` with the private key; ``pin`` as for :meth:`decrypt`."""
        if pin is None:
            ck = self.token.module.cryptoki
            handle = self.key_handle
            return self._private_operation(
                "sign", lambda s: fastpath.sign(ck, s.handle, int(mechanism), handle, data),
                lean=True,
            )
        target: Any = self.obj
        # A context-specific login sits between C_SignInit and C_Sign.
        return self._private_operation(
            "sign", lambda s: target.sign(data, mechanism=as_mechanism(mechanism), pin=pin)
        )

    def _private_operation(self, kind: str, call: Callable[[Any], bytes], *,
                           lean: bool = False) -> bytes:
        """Run a one-shot sign or decrypt in the key's session (``lean``: a call
        on handles only, see :meth:`_run_lean`); on any failure end what the
        token may have left active (SoftHSM2 keeps the operation after a wrong
        context-specific PIN), so the session stays usable."""
        def run(s: Any) -> bytes:
            try:
                return call(s)
            except BaseException:
                # Both sessions: python-pkcs11's calls run in its own.
                for handle in s.handles():
                    self.token.module.cryptoki.end_operation(handle, kind)
                raise

        if lean:
            return self._run_lean(f"C_{kind.title()}", run)
        return self.token.run_on(self.home, f"C_{kind.title()}", run)

    def _run_lean(self, doing: str, fn: Callable[[Any], _T]) -> _T:
        """Run a call that needs only the objects' handles (straight on the
        function list) in the home session, or in any free session while
        another thread is busy in the home session (it is a pool session too:
        a 2048-bit key pair takes 0.1 s there).  A process's objects are
        visible to all its sessions; python-pkcs11's objects, bound to their
        session, stay in the home session."""
        if self.home.alive and self.home.lock.locked():
            return self.token.run(doing, fn)
        return self.token.run_on(self.home, doing, fn)

    def verify(self, data: bytes, signature: bytes, mechanism: Any) -> bool:
        """``C_Verify`` with the public key: whether ``signature`` is right.

        ``CKR_SIGNATURE_INVALID`` and ``CKR_SIGNATURE_LEN_RANGE`` answer False;
        other failures raise.
        """
        target: Any = self.public

        ck = self.token.module.cryptoki

        def check(s: Any) -> bool:
            return fastpath.verify(ck, s.handle, int(mechanism), target.handle, data=data,
                                   signature=signature)

        return bool(self._run_lean("C_Verify", check))

    def wrap(self, target: TokenKey, mechanism: Any, param: Any = None, obj: Any = None) -> bytes:
        """``C_WrapKey`` of ``target``'s secret/private key (or ``obj``) with this key.

        This key is the wrapping key: a public key of a pair (RSA) or a secret
        key (AES key wrap).  The token decides whether the target may leave:
        a key that is not ``CKA_EXTRACTABLE`` gives ``NTE_BAD_KEY_STATE``.
        """
        wrapper = self.public if mechanism in _PUBLIC_WRAPS else self.obj
        if wrapper is None:
            raise Fail(winerror.NTE_BAD_KEY, "this key cannot wrap with that mechanism")
        victim = target.obj if obj is None else obj
        wrapped: bytes = self.token.run_on(
            self.home, "C_WrapKey",
            lambda s: wrapper.wrap_key(victim, mechanism=as_mechanism(mechanism),
                                             mechanism_param=param),
        )
        return wrapped

    def unwrap(
        self, data: bytes, mechanism: Any, param: Any, template: Mapping[Any, object]
    ) -> TokenKey:
        """``C_UnwrapKey`` of ``data`` with this key (the private key of a pair, or a
        secret key) into a new secret key described by ``template``."""
        check_template(template)
        unwrapper = self.obj
        if unwrapper is None:
            raise Fail(winerror.NTE_BAD_KEY, "a public key cannot unwrap")
        try:
            made = self.token.run_on(
                self.home, "C_UnwrapKey",
                lambda s: unwrapper.unwrap_key(
                    as_object_class(ObjectClass.SECRET_KEY),
                    as_key_type(template[Attribute.KEY_TYPE]), data,
                    mechanism=as_mechanism(mechanism), mechanism_param=param,
                    capabilities=_NO_CAPABILITIES,
                    template=template,
                ),
            )
        except Fail as exc:
            # SoftHSM2 reports a ciphertext whose padding is wrong (a tampered
            # or foreign BLOB) as CKR_GENERAL_ERROR.
            if exc.ckr in _UNWRAP_BAD_INPUT:
                raise Fail(
                    winerror.NTE_BAD_DATA,
                    f"the wrapped key does not decrypt with this key ({exc.ckr})", ckr=exc.ckr,
                ) from None
            raise
        return TokenKey(
            self.token, self.home, made, None, token_object=bool(template.get(Attribute.TOKEN))
        )

    def agree(self, peer_public: bytes, size: int) -> bytes:
        """The Diffie-Hellman shared secret Z (big-endian, ``size`` bytes) of this
        private key and a peer's public value: ``C_DeriveKey(CKM_DH_PKCS_DERIVE)``
        into a short-lived readable generic secret, read and destroyed at once."""
        base: Any = self.obj
        template = {**_AGREED_TEMPLATE, Attribute.VALUE_LEN: size}

        def derive(s: Any) -> bytes:
            secret = base.derive_key(
                as_key_type(KeyType.GENERIC_SECRET), size * 8,
                mechanism=as_mechanism(Mechanism.DH_PKCS_DERIVE),
                mechanism_param=peer_public, capabilities=_NO_CAPABILITIES, template=template,
            )
            try:
                return bytes(secret[Attribute.VALUE])
            finally:
                secret.destroy()

        value: bytes = self.token.run_on(self.home, "C_DeriveKey", derive)
        return value.rjust(size, b"\0")

    def extract(self, obj: Any | None = None) -> bytes:
        """The material of this extractable secret key (or private key ``obj``).

        Key material leaves a token only by ``C_WrapKey``, so the token's
        ``CKA_EXTRACTABLE`` decides: a non-extractable key gives
        ``NTE_BAD_KEY_STATE`` whatever csp11's own bookkeeping says.  The
        wrapping key is an ephemeral AES-256 session key made for this call
        and destroyed at once; the AES key wrap (RFC 5649) is then undone in
        software.  A private key comes out as PKCS #8 DER.

        SoftHSM2 zero-pads the material to a multiple of 8 bytes *before*
        wrapping (TOKEN-FACTS), so the result may carry trailing zero bytes;
        callers cut it to the length they know (key size, DER length).
        """
        victim = self.obj if obj is None else obj
        if _KEK_MECHANISM not in self.token.mechanisms():
            raise Fail(
                winerror.NTE_NOT_SUPPORTED,
                "the token has no CKM_AES_KEY_WRAP_PAD to export key material with",
            )

        def wrap(s: Any) -> tuple[bytes, bytes]:
            kek = s.generate_key(
                as_key_type(KeyType.AES), 256, template=_KEK_TEMPLATE, capabilities=_NO_CAPABILITIES
            )
            try:
                wrapped = kek.wrap_key(victim, mechanism=as_mechanism(_KEK_MECHANISM))
                return bytes(kek[Attribute.VALUE]), wrapped
            finally:
                kek.destroy()

        kek_value, wrapped = self.token.run_on(self.home, "C_WrapKey", wrap)
        return _unwrap_padded(kek_value, wrapped)

    def set_attribute(self, attr: Any, value: object, obj: Any | None = None) -> None:
        """``C_SetAttributeValue`` of one attribute (checked like a template)."""
        check_template({attr: value})
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public

        def assign(s: Any) -> None:
            target[attr] = value

        self.token.run_on(self.home, "C_SetAttributeValue", assign)
        if self.token_object:  # a changed token object: what contexts remember is read again
            self.token.wrote_token_objects()


# NSS softokn's CKM_AES_KEY_WRAP_PAD is the RFC 3394 wrap of the material
# PKCS #7-padded to 8 bytes, not RFC 5649 (measured, softokn 3.87: a 16-byte
# key wraps to 32 bytes; RFC 3394 unwrapping gives the key and eight 0x08).
_SEMIBLOCK = 8


def _unwrap_padded(kek: bytes, wrapped: bytes) -> bytes:
    """Undo a token's ``CKM_AES_KEY_WRAP_PAD``: RFC 5649 (SoftHSM2), else RFC
    3394 of PKCS #7-padded material (NSS softokn).  Both carry an integrity
    check, so a wrong reading cannot pass for key material."""
    # Imported here, off the first key's path (cold start): cryptography's
    # bindings cost about 8 ms, and only a wrapped export comes this way.
    from cryptography.hazmat.primitives import keywrap  # noqa: PLC0415

    try:
        return keywrap.aes_key_unwrap_with_padding(kek, wrapped)
    except keywrap.InvalidUnwrap:
        pass
    try:
        padded = keywrap.aes_key_unwrap(kek, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        padded = b""
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= _SEMIBLOCK or padded[-pad:] != bytes([pad]) * pad:
        raise Fail(winerror.NTE_FAIL, "the token's AES key wrap did not unwrap")
    return padded[:-pad]
